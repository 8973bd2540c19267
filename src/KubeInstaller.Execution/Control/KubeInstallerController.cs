using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Control;

/// <summary>Where the controller gets the desired cluster and the inventory each round.</summary>
public interface IClusterSource
{
    /// <summary>The definition (null: no cluster is defined, nothing to do) and the inventory.</summary>
    Task<(ClusterDefinition? Definition, IReadOnlyList<InventoryNode> Inventory)> LoadAsync(CancellationToken ct);
}

public sealed record KubeInstallerControllerOptions
{
    /// <summary>Pause between rounds when there was nothing to do, or after a failure.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Phases carried out (the Kubernetes phases need the operations that are not built yet).</summary>
    public ClusterPhase LastPhase { get; init; } = ClusterPhase.Upgrade;
}

/// <summary>
/// The installer as a leader-elected controller (election name <c>kube-installer</c>): while this boot server leads,
/// one reconcile round after another (probe → plan → run the batch), each operation fenced on the leadership key
/// (<see cref="FencedOperationGate"/>, history written fenced too); on losing the lead it stops at once (the round's
/// token is the leadership token) and waits to lead again.
/// </summary>
public sealed partial class KubeInstallerController(
    ILeadership leadership,
    IClusterSource source,
    ClusterReconciler reconciler,
    KubeInstallerControllerOptions options,
    TimeProvider time,
    ILogger<KubeInstallerController> logger) : BackgroundService
{
    /// <summary>Rounds run as leader (tests and status).</summary>
    public int Rounds { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var pause = options.Interval;
            if (leadership.IsLeader)
            {
                using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership.LeadershipToken);
                try
                {
                    var (definition, inventory) = await source.LoadAsync(term.Token);
                    if (definition is not null)
                    {
                        Rounds++;
                        var step = await reconciler.StepAsync(definition, inventory, options.LastPhase, term.Token);
                        if (step.Batch is { Succeeded: true })
                        {
                            pause = TimeSpan.Zero; // more work may follow at once
                        }
                    }
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    LogTermEnded(logger);
                    pause = TimeSpan.Zero;
                }
                catch (LeadershipLostException e)
                {
                    LogTermEnded(logger);
                    LogRoundFailed(logger, e.Message);
                }
                catch (Exception e) when (e is KubeExecutionException or NekkoMetal.Inventory.InventoryException or Grpc.Core.RpcException or System.Text.Json.JsonException)
                {
                    LogRoundFailed(logger, e.Message);
                }
            }

            try
            {
                await Task.Delay(pause == TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : pause, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventIds.LoopTermEnded, LogLevel.Information, "kube-installer: not the leader (any more); waiting")]
    private static partial void LogTermEnded(ILogger logger);

    [LoggerMessage(EventIds.LoopRoundFailed, LogLevel.Warning, "kube-installer round failed: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string reason);
}
