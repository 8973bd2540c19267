using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Health;
using Quartz;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// The Quartz job of the state setter: one sweep every <see cref="HealthOptions.StateSweepSeconds"/> on every boot server;
/// only the leader's sweep does anything (<see cref="StateSetter.SweepAsync"/>). Never two sweeps at once in one process.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class StateSetterJob(StateSetter setter, ILogger<StateSetterJob> logger) : IJob
{
    public const string Name = "state-setter";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await setter.SweepAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // leadership lost or shutting down mid-sweep: the next leader's sweep starts over
        }
        catch (StoreUnavailableException e)
        {
            LogSweepFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventIds.StateSweepFailed, LogLevel.Warning, "State setter sweep failed; the next one retries: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
