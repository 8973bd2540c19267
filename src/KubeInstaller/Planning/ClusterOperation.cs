using System.Collections.Immutable;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>
/// One idempotent step of a plan. <see cref="Parameters"/> keys are the constants of <see cref="OperationParameters"/>;
/// <see cref="Description"/> is what history, logs and <c>nekkoctl cluster status</c> show.
/// </summary>
/// <param name="Nodes">Target node names; empty for cluster-wide operations (etcd backup).</param>
public sealed record ClusterOperation(
    ClusterPhase Phase,
    OperationKind Kind,
    ImmutableArray<string> Nodes,
    ImmutableSortedDictionary<string, string> Parameters,
    string Description)
{
    public string? this[string parameter] => Parameters.GetValueOrDefault(parameter);

    public override string ToString() => Description;
}

/// <summary>The parameter names of <see cref="ClusterOperation.Parameters"/>.</summary>
public static class OperationParameters
{
    public const string Component = "component";
    public const string Version = "version";
    public const string Path = "path";
    public const string Content = "content";
    public const string ContentSha256 = "contentSha256";
    public const string AssetName = "assetName";
    public const string Sha256 = "sha256";
    public const string Unit = "unit";
    public const string Units = "units";
    public const string Ca = "ca";
    public const string CommonName = "commonName";
    public const string Organization = "organization";
    public const string SubjectAltNames = "subjectAltNames";
    public const string Usage = "usage";
    public const string Server = "server";
    public const string MemberId = "memberId";
    public const string MemberName = "memberName";
    public const string PeerUrl = "peerUrl";
    public const string InitialCluster = "initialCluster";
    public const string InitialClusterState = "initialClusterState";
    public const string KubernetesVersion = "kubernetesVersion";
    public const string EtcdVersion = "etcdVersion";
    public const string Labels = "labels";
}
