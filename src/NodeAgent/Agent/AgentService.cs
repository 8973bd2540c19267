using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Heartbeat;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>
/// The agent's loop: collect facts once, then on every interval run the checks and hand the report to the
/// <see cref="IHeartbeatSink"/>. Facts ride along with the first heartbeat and whenever they change.
/// A failed round is logged and the next one runs; only the host's token stops the loop.
/// </summary>
internal sealed partial class AgentService(
    FactCollector facts,
    HealthCheckRunner checks,
    IHeartbeatSink sink,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        LogStarted(logger, settings.Interval, settings.BootServers.Count);
        if (settings.BootServers.Count == 0)
        {
            LogNoBootServers(logger);
        }

        NodeFacts? lastFacts = null;
        using var timer = new PeriodicTimer(settings.Interval, time);
        do
        {
            try
            {
                var current = await facts.CollectAsync(stoppingToken);
                var changed = lastFacts is null || !SameFacts(lastFacts, current);
                lastFacts = current;
                var report = await checks.RunAsync(stoppingToken);
                await sink.SendAsync(new AgentHeartbeat(changed ? current : null, report), stoppingToken);
                LogRound(logger, report.Overall, report.Checks.Count);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Facts compare by their JSON (records hold lists, whose equality is by reference).</summary>
    private static bool SameFacts(NodeFacts a, NodeFacts b) =>
        global::System.Text.Json.JsonSerializer.Serialize(a, AgentJson.Default.NodeFacts) == global::System.Text.Json.JsonSerializer.Serialize(b, AgentJson.Default.NodeFacts);

    [LoggerMessage(EventId = EventIds.AgentStarted, Level = LogLevel.Information, Message = "nekko-agent running checks every {Interval} ({BootServerCount} boot servers configured)")]
    private static partial void LogStarted(ILogger logger, TimeSpan interval, int bootServerCount);

    [LoggerMessage(EventId = EventIds.NoBootServers, Level = LogLevel.Warning, Message = "No boot servers configured (agent:bootServers): heartbeats go to the log only")]
    private static partial void LogNoBootServers(ILogger logger);

    [LoggerMessage(EventId = EventIds.RoundCompleted, Level = LogLevel.Debug, Message = "Checks done: {Overall} over {CheckCount} results")]
    private static partial void LogRound(ILogger logger, Checks.CheckStatus overall, int checkCount);

    [LoggerMessage(EventId = EventIds.RoundFailed, Level = LogLevel.Error, Message = "Agent round failed; next round on the next interval")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
