using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Control;

/// <summary>One round: the plan, whether it was converged (up to the last phase), and the batch run, if any.</summary>
public sealed record ReconcileStep(ClusterPlan Plan, bool Converged, BatchResult? Batch);

/// <summary>How a reconcile run ended.</summary>
/// <param name="Batches">Every batch run, with its phase and outcome.</param>
/// <param name="LastPlan">The plan that ended the run (converged, or the last one before the timeout).</param>
public sealed record ReconcileResult(bool Converged, int Iterations, IReadOnlyList<BatchResult> Batches, ClusterPlan LastPlan, TimeSpan Elapsed);

/// <summary>
/// The controller loop: probe → plan → execute the batch → probe again, until the plan is converged or the time
/// is up. A failed batch is retried on the next iteration (after <see cref="RetryDelay"/>): operations are
/// idempotent and the next plan starts from what is observed. With <c>lastPhase</c> the loop only carries out
/// phases up to it (the etcd phase alone, while Kubernetes phases cannot run here) and calls the cluster
/// converged when the plan has moved past it with nothing held back.
/// </summary>
public sealed partial class ClusterReconciler(
    IClusterProber prober,
    BatchExecutor executor,
    TimeProvider time,
    ILogger<ClusterReconciler> logger)
{
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Observes and plans once, without executing.</summary>
    public async Task<(ObservedCluster Observed, ClusterPlan Plan)> PlanAsync(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var observed = await prober.ProbeAsync(inventory, ct);
        return (observed, ClusterPlanner.Plan(definition, inventory, observed, time.GetUtcNow()));
    }

    /// <summary>One round: probe, plan, and run the batch when it is of a phase up to <paramref name="lastPhase"/>.</summary>
    public async Task<ReconcileStep> StepAsync(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory, ClusterPhase lastPhase, CancellationToken ct)
    {
        var (_, plan) = await PlanAsync(definition, inventory, ct);
        var done = plan.DefinitionErrors.Count == 0 && plan.Blockers.Count == 0 && (plan.Phase is null || plan.Phase > lastPhase);
        if (done)
        {
            return new ReconcileStep(plan, true, null);
        }

        if (plan.Phase is { } phase && phase <= lastPhase && plan.Operations.Count > 0)
        {
            LogIteration(logger, phase, plan.Operations.Count);
            return new ReconcileStep(plan, false, await executor.RunAsync(plan.Operations, inventory, ct));
        }

        LogBlocked(logger, string.Join("; ", plan.Blockers.Concat(plan.DefinitionErrors)));
        return new ReconcileStep(plan, false, null);
    }

    public async Task<ReconcileResult> ReconcileAsync(
        ClusterDefinition definition,
        Func<IReadOnlyList<InventoryNode>> inventory,
        TimeSpan timeout,
        ClusterPhase lastPhase = ClusterPhase.Upgrade,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(inventory);
        var watch = Stopwatch.StartNew();
        var batches = new List<BatchResult>();
        var iterations = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            iterations++;
            var step = await StepAsync(definition, inventory(), lastPhase, ct);
            if (step.Converged)
            {
                LogConverged(logger, iterations, watch.Elapsed.TotalSeconds);
                return new ReconcileResult(true, iterations, batches, step.Plan, watch.Elapsed);
            }

            if (step.Batch is { } batch)
            {
                batches.Add(batch);
            }

            if (watch.Elapsed > timeout)
            {
                return new ReconcileResult(false, iterations, batches, step.Plan, watch.Elapsed);
            }

            if (step.Batch is not { Succeeded: true })
            {
                await Task.Delay(RetryDelay, time, ct);
            }
        }
    }

    [LoggerMessage(EventIds.LoopIteration, LogLevel.Information, "Plan: {Phase}, {Count} operation(s)")]
    private static partial void LogIteration(ILogger logger, ClusterPhase phase, int count);

    [LoggerMessage(EventIds.LoopConverged, LogLevel.Information, "Converged after {Iterations} iteration(s), {Seconds:0.0} s")]
    private static partial void LogConverged(ILogger logger, int iterations, double seconds);

    [LoggerMessage(EventIds.LoopBlocked, LogLevel.Information, "Waiting: {Blockers}")]
    private static partial void LogBlocked(ILogger logger, string blockers);
}
