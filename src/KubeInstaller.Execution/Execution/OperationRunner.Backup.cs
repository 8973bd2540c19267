using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

public sealed partial class OperationRunner
{
    private static Task BackupEtcdAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct) =>
        throw new OperationFailedException($"{op.Description}: {op.Kind} is not built yet in this executor");
}
