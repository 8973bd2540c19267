namespace NekkoMetal.Cli.Api;

/// <summary>Kubernetes cluster paths, relative to <c>/api/v1/</c>.</summary>
internal static class ClusterPaths
{
    public const string Cluster = "cluster";
    public const string Status = "cluster/status";
    public const string History = "cluster/history";
}
