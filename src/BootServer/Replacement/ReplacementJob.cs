using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Replacement;
using Quartz;

namespace NekkoMetal.BootServer.Replacement;

/// <summary>
/// The Quartz job of the replacement controller: one sweep every state-sweep interval on every boot server; only the
/// leader's does anything (<see cref="ReplacementController.SweepAsync"/>). Never two sweeps at once in one process.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class ReplacementJob(ReplacementController controller, ILogger<ReplacementJob> logger) : IJob
{
    public const string Name = "replacement-controller";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await controller.SweepAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // leadership lost or shutting down mid-sweep: the next leader's sweep continues (every step is idempotent)
        }
        catch (StoreUnavailableException e)
        {
            LogSweepFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventIds.ReplacementSweepFailed, LogLevel.Warning, "Replacement sweep failed; the next one retries: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
