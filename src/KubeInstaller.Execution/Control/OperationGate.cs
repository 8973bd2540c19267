using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.KubeInstaller.Execution.Control;

/// <summary>Asked before each operation runs: may this process act on the cluster now?</summary>
public interface IOperationGate
{
    /// <summary>Returns when the operation may run; throws <see cref="LeadershipLostException"/> otherwise.</summary>
    Task EnterAsync(CancellationToken ct);
}

/// <summary>No gate: a single installer (tests, <c>nekkoctl</c> run by hand).</summary>
public sealed class OpenGate : IOperationGate
{
    public static OpenGate Instance { get; } = new();

    public Task EnterAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>This process is not (or no longer) the leader: it must not touch the cluster.</summary>
public sealed class LeadershipLostException(string message) : KubeExecutionException(message);

/// <summary>
/// Fencing for a leader-elected installer: before each operation, a transaction compares the create revision of the
/// leadership key (<see cref="LeaderFence"/>) — etcd, not this process's belief, decides. A deposed leader (lease
/// expired, key gone or recreated by a successor) is refused even if it has not noticed yet, so at most the
/// operation already running when the term ended completes; the successor's plan starts from what it observes.
/// </summary>
public sealed class FencedOperationGate(EtcdStore store, ILeadership leadership) : IOperationGate
{
    public async Task EnterAsync(CancellationToken ct)
    {
        if (!await Fencing.HoldsAsync(store, leadership, ct))
        {
            throw new LeadershipLostException("not the kube-installer leader (fence check failed): operation not run");
        }
    }
}

internal static class Fencing
{
    public static Compare Compare(LeaderFence fence) => new()
    {
        Key = ByteString.CopyFromUtf8(fence.Key),
        Target = Etcdserverpb.Compare.Types.CompareTarget.Create,
        Result = Etcdserverpb.Compare.Types.CompareResult.Equal,
        CreateRevision = fence.CreateRevision,
    };

    public static async Task<bool> HoldsAsync(EtcdStore store, ILeadership leadership, CancellationToken ct)
    {
        if (leadership.Fence is not { } fence)
        {
            return false;
        }

        var txn = new TxnRequest();
        txn.Compare.Add(Compare(fence));
        return (await store.TxnAsync(txn, ct)).Succeeded;
    }
}
