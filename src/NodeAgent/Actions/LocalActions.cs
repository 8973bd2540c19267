using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Actions;

/// <summary>Carries out what the boot servers ask in a heartbeat's answer (docs/agent-api.md: <c>action</c>).</summary>
internal interface ILocalActions
{
    /// <summary>Runs <paramref name="action"/> (the wire name: <c>reboot</c>, <c>power-off</c>); unknown names are logged and ignored.</summary>
    Task RunAsync(string action, CancellationToken cancellationToken);
}

/// <summary>
/// Reboot and power-off through the configured commands (default <c>systemctl reboot</c> / <c>systemctl poweroff</c>:
/// a clean shutdown of the machine's systemd), unless <see cref="AgentOptions.AllowActions"/> is false.
/// </summary>
internal sealed partial class LocalActions(IOptions<AgentOptions> options, ICommandRunner commands, ILogger<LocalActions> logger) : ILocalActions
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    public async Task RunAsync(string action, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var command = action switch
        {
            "reboot" => o.RebootCommand,
            "power-off" => o.PowerOffCommand,
            _ => null,
        };
        if (command is null)
        {
            LogUnknown(logger, action);
            return;
        }

        if (!o.AllowActions)
        {
            LogNotAllowed(logger, action);
            return;
        }

        LogRunning(logger, action, string.Join(' ', command));
        var result = await commands.RunAsync(command[0], [.. command.Skip(1)], CommandTimeout, cancellationToken);
        if (result.ExitCode != 0)
        {
            LogFailed(logger, action, result.StartError ?? (result.TimedOut ? "timed out" : $"exit code {result.ExitCode}: {result.StandardError.Trim()}"));
        }
    }

    [LoggerMessage(EventId = EventIds.ActionRunning, Level = LogLevel.Warning, Message = "The boot server asked for {Action}: running {Command}")]
    private static partial void LogRunning(ILogger logger, string action, string command);

    [LoggerMessage(EventId = EventIds.ActionFailed, Level = LogLevel.Error, Message = "{Action} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string action, string reason);

    [LoggerMessage(EventId = EventIds.ActionNotAllowed, Level = LogLevel.Warning, Message = "The boot server asked for {Action}, but agent:allowActions is false: ignored")]
    private static partial void LogNotAllowed(ILogger logger, string action);

    [LoggerMessage(EventId = EventIds.ActionUnknown, Level = LogLevel.Warning, Message = "The boot server asked for an action this agent does not know: {Action}")]
    private static partial void LogUnknown(ILogger logger, string action);
}
