namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>
/// The next batch of operations, all of one phase, to be run in order (stop at the first failure, observe again,
/// plan again). <see cref="Blockers"/> say why work that is due is held back (quorum, unreachable nodes, waiting
/// for health); they are reported in status and do not stop the operations that are safe.
/// </summary>
public sealed record ClusterPlan(
    ClusterPhase? Phase,
    IReadOnlyList<ClusterOperation> Operations,
    IReadOnlyList<string> Blockers,
    IReadOnlyList<string> DefinitionErrors)
{
    /// <summary>Nothing to do and nothing held back: the cluster is as defined.</summary>
    public bool IsConverged => Operations.Count == 0 && Blockers.Count == 0 && DefinitionErrors.Count == 0;
}
