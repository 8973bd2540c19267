namespace NekkoMetal.KubeInstaller.Model;

/// <summary>
/// The desired cluster, as the administrator defined it (API, <c>nekkoctl cluster</c>). Validated by
/// <see cref="ClusterDefinitionValidator"/> before every plan.
/// </summary>
/// <param name="Name">Cluster name (kubeconfig cluster name).</param>
/// <param name="KubernetesVersion">Version of kube-apiserver, -controller-manager, -scheduler, kubelet and kube-proxy.</param>
/// <param name="EtcdVersion">Version of etcd.</param>
/// <param name="ContainerRuntimeVersion">Version of containerd.</param>
/// <param name="ControlPlaneCount">Number of control-plane nodes, each an etcd member (1, 3 or 5 in practice).</param>
/// <param name="PodCidr">Pod network, e.g. <c>10.244.0.0/16</c>.</param>
/// <param name="ServiceCidr">Service network, e.g. <c>10.96.0.0/12</c>; its first address is the API service, its tenth the DNS service.</param>
/// <param name="DnsDomain">Cluster DNS domain, e.g. <c>cluster.local</c>.</param>
/// <param name="ControlPlaneSelector">Which inventory machines may be control-plane nodes.</param>
/// <param name="WorkerSelector">Which inventory machines are workers (control-plane nodes never are).</param>
/// <param name="Binaries">Every binary the cluster runs, pinned by SHA-256 per component and version.</param>
public sealed record ClusterDefinition(
    string Name,
    string KubernetesVersion,
    string EtcdVersion,
    string ContainerRuntimeVersion,
    int ControlPlaneCount,
    string PodCidr,
    string ServiceCidr,
    string DnsDomain,
    NodeSelector ControlPlaneSelector,
    NodeSelector WorkerSelector,
    IReadOnlyList<BinaryPin> Binaries)
{
    /// <summary>Extra command-line flags per component (<c>--name=value</c>), appended after the installer's own.</summary>
    public IReadOnlyDictionary<ClusterComponent, IReadOnlyList<string>> ExtraFlags { get; init; } =
        new Dictionary<ClusterComponent, IReadOnlyList<string>>();

    /// <summary>Whether control-plane nodes also run containerd, kubelet and kube-proxy (registered, tainted by role label).</summary>
    public bool ControlPlaneRunsKubelet { get; init; } = true;

    /// <summary>
    /// The API endpoint kubelets and kube-proxy use (a VIP or DNS name, <c>https://host:6443</c>); when null, the
    /// first control-plane node by name.
    /// </summary>
    public string? ControlPlaneEndpoint { get; init; }

    /// <summary>The version a component runs in this definition.</summary>
    public string VersionOf(ClusterComponent component) => component switch
    {
        ClusterComponent.Etcd => EtcdVersion,
        ClusterComponent.ContainerRuntime => ContainerRuntimeVersion,
        _ => KubernetesVersion,
    };

    /// <summary>The pinned binary of a component at this definition's version, or null when none is pinned.</summary>
    public BinaryPin? PinOf(ClusterComponent component)
    {
        var version = VersionOf(component);
        foreach (var pin in Binaries)
        {
            if (pin.Component == component && pin.Version == version)
            {
                return pin;
            }
        }

        return null;
    }
}

/// <summary>A binary from the boot servers' asset store, pinned by the SHA-256 of its content (lower-case hex).</summary>
public sealed record BinaryPin(ClusterComponent Component, string Version, string AssetName, string Sha256);

/// <summary>Selects inventory machines by role (exact, null = any) and labels (every pair must match).</summary>
public sealed record NodeSelector(string? Role, IReadOnlyDictionary<string, string> Labels)
{
    public static NodeSelector ForRole(string role) => new(role, new Dictionary<string, string>());

    public bool Matches(InventoryNode node)
    {
        if (Role is not null && !string.Equals(Role, node.Role, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var (key, value) in Labels)
        {
            if (!node.Labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
