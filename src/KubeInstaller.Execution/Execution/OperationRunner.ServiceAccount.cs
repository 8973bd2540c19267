using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

public sealed partial class OperationRunner
{
    private static Task WriteServiceAccountKeyAsync(ClusterOperation op, NodeConnection node, CancellationToken ct) =>
        throw new OperationFailedException($"{op.Description}: {op.Kind} is not built yet in this executor");
}
