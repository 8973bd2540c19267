using Microsoft.Extensions.Logging;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>The outcome of one batch: every operation's record, and the first failure if any.</summary>
public sealed record BatchResult(IReadOnlyList<OperationRecord> Records, Exception? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Runs a plan's batch in order and stops at the first failure. Order is kept where it matters; nodes are worked
/// on in parallel (up to <see cref="ExecutorOptions.Parallelism"/>) where it does not: see <see cref="Segments"/>.
/// Every operation and its outcome is recorded in the history (the ones not run after a failure as skipped). Each
/// operation first passes the gate (the leader's fence, <see cref="FencedOperationGate"/>).
/// </summary>
public sealed partial class BatchExecutor(
    IOperationRunner runner,
    IOperationHistory history,
    ExecutorOptions options,
    TimeProvider time,
    ILogger<BatchExecutor> logger,
    IOperationGate? gate = null)
{
    private readonly IOperationGate _gate = gate ?? OpenGate.Instance;

    public async Task<BatchResult> RunAsync(IReadOnlyList<ClusterOperation> batch, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var records = new List<OperationRecord>();
        Exception? failure = null;
        using var parallel = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        foreach (var segment in Segments(batch))
        {
            if (failure is not null)
            {
                foreach (var op in segment.SelectMany(s => s))
                {
                    var now = time.GetUtcNow();
                    var skipped = OperationRecord.Of(op, now, now, OperationOutcome.Skipped, "an earlier operation failed");
                    records.Add(skipped);
                    await history.RecordAsync(skipped, ct);
                }

                continue;
            }

            // each lane: one node's operations of this segment, in order; lanes run side by side
            var lanes = segment.Select(async lane =>
            {
                await parallel.WaitAsync(ct);
                try
                {
                    var laneRecords = new List<OperationRecord>();
                    Exception? laneFailure = null;
                    foreach (var op in lane)
                    {
                        var started = time.GetUtcNow();
                        if (laneFailure is not null)
                        {
                            laneRecords.Add(OperationRecord.Of(op, started, started, OperationOutcome.Skipped, "an earlier operation failed"));
                            continue;
                        }

                        LogStarted(logger, op.Description);
                        try
                        {
                            await _gate.EnterAsync(ct);
                            await runner.RunAsync(op, inventory, ct);
                            var finished = time.GetUtcNow();
                            LogSucceeded(logger, op.Description, (finished - started).TotalMilliseconds);
                            laneRecords.Add(OperationRecord.Of(op, started, finished, OperationOutcome.Succeeded, null));
                        }
                        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                        {
                            LogFailed(logger, e, op.Description);
                            laneFailure = e;
                            laneRecords.Add(OperationRecord.Of(op, started, time.GetUtcNow(), OperationOutcome.Failed, e.Message));
                        }
                    }

                    return (laneRecords, laneFailure);
                }
                finally
                {
                    parallel.Release();
                }
            }).ToList();
            foreach (var (laneRecords, laneFailure) in await Task.WhenAll(lanes))
            {
                records.AddRange(laneRecords);
                foreach (var r in laneRecords)
                {
                    await history.RecordAsync(r, ct);
                }

                failure ??= laneFailure;
            }
        }

        return new BatchResult(records, failure);
    }

    /// <summary>
    /// Splits a batch into segments run one after another; a segment is a set of lanes run side by side, a lane the
    /// operations of one node in their order. Consecutive node-local operations (writes, starts) form one segment;
    /// consecutive <c>WaitHealthy</c> form the next (so every start of a bootstrap happens before any wait); each
    /// operation on the cluster as a whole (etcd member changes, backup, Kubernetes API) is a segment alone.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<IReadOnlyList<ClusterOperation>>> Segments(IReadOnlyList<ClusterOperation> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var segments = new List<IReadOnlyList<IReadOnlyList<ClusterOperation>>>();
        var current = new List<ClusterOperation>();
        Kind? currentKind = null;

        void Flush()
        {
            if (current.Count > 0)
            {
                segments.Add([.. current.GroupBy(o => o.Nodes.Length == 1 ? o.Nodes[0] : "", StringComparer.Ordinal).Select(g => (IReadOnlyList<ClusterOperation>)[.. g])]);
                current = [];
            }
        }

        foreach (var op in batch)
        {
            var kind = KindOf(op);
            if (kind == Kind.Cluster || kind != currentKind)
            {
                Flush();
            }

            current.Add(op);
            currentKind = kind;
            if (kind == Kind.Cluster)
            {
                Flush();
                currentKind = null;
            }
        }

        Flush();
        return segments;
    }

    private enum Kind
    {
        NodeLocal,
        Wait,
        Cluster,
    }

    private static Kind KindOf(ClusterOperation op) => op.Kind switch
    {
        OperationKind.WaitHealthy => Kind.Wait,
        OperationKind.IssueCertificate or OperationKind.IssueKubeconfig or OperationKind.WriteServiceAccountKey or OperationKind.WriteBinary
            or OperationKind.WriteEtcdInitialCluster or OperationKind.WriteUnit or OperationKind.StartUnit or OperationKind.RestartUnit
            or OperationKind.StopUnits when op.Nodes.Length == 1 => Kind.NodeLocal,
        _ => Kind.Cluster,
    };

    [LoggerMessage(EventIds.OperationStarted, LogLevel.Information, "Running {Operation}")]
    private static partial void LogStarted(ILogger logger, string operation);

    [LoggerMessage(EventIds.OperationSucceeded, LogLevel.Information, "Done {Operation} in {Milliseconds:0} ms")]
    private static partial void LogSucceeded(ILogger logger, string operation, double milliseconds);

    [LoggerMessage(EventIds.OperationFailed, LogLevel.Warning, "Failed {Operation}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string operation);
}
