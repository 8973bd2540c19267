using Microsoft.Extensions.Logging;
using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Heartbeat;

/// <summary>The sink when no boot server is configured: one log line per heartbeat with the overall status and the failing checks.</summary>
internal sealed partial class LogHeartbeatSink(ILogger<LogHeartbeatSink> logger) : IHeartbeatSink
{
    public Task SendAsync(AgentHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var failing = heartbeat.Health.Checks.Where(c => c.Status is CheckStatus.Warning or CheckStatus.Critical).Select(c => $"{c.Name}={c.Status}: {c.Message}");
        LogHeartbeat(logger, heartbeat.Health.Overall, heartbeat.Health.Checks.Count, string.Join(" | ", failing));
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = EventIds.HeartbeatLogged, Level = LogLevel.Information, Message = "Heartbeat (to the log only: no boot servers configured): {Overall}, {CheckCount} checks; failing: {Failing}")]
    private static partial void LogHeartbeat(ILogger logger, CheckStatus overall, int checkCount, string failing);
}
