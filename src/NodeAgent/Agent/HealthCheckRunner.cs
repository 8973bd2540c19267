using Microsoft.Extensions.Logging;
using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>
/// Runs every registered check once. The boundary for check failures: a check that throws (a bug) is logged and
/// reported unknown with the exception's type, the other checks still run.
/// </summary>
internal sealed partial class HealthCheckRunner(IEnumerable<IHealthCheck> checks, TimeProvider time, ILogger<HealthCheckRunner> logger)
{
    public async Task<HealthReport> RunAsync(CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        var results = new List<CheckResult>();
        foreach (var check in checks)
        {
            try
            {
                results.AddRange(await check.RunAsync(cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var name = check.GetType().Name;
                LogCheckFailed(logger, name, e);
                results.Add(CheckResult.Unknown(name, $"check failed: {e.GetType().Name}"));
            }
        }

        return new HealthReport(at, CheckResult.Worst(results.Select(r => r.Status)), results);
    }

    [LoggerMessage(EventId = EventIds.CheckFailed, Level = LogLevel.Error, Message = "Health check {Check} failed")]
    private static partial void LogCheckFailed(ILogger logger, string check, Exception exception);
}
