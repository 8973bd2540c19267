namespace NekkoMetal.KubeInstaller.Model;

/// <summary>
/// What the probes reported, one snapshot per planning iteration: per node over SSH, etcd through its API, and
/// Kubernetes through the API server. The planner trusts nothing else.
/// </summary>
public sealed record ObservedCluster
{
    public static ObservedCluster Empty { get; } = new();

    /// <summary>Per machine serial. A node absent here was not probed and counts as unreachable.</summary>
    public IReadOnlyDictionary<string, ObservedNode> Nodes { get; init; } = new Dictionary<string, ObservedNode>();

    /// <summary>The etcd member list (empty when no cluster answered).</summary>
    public IReadOnlyList<EtcdMember> EtcdMembers { get; init; } = [];

    /// <summary>Whether any API server answered <c>/readyz</c> through the control-plane endpoint.</summary>
    public bool ApiServerReady { get; init; }

    /// <summary>Kubernetes Node objects by node name (empty when the API did not answer).</summary>
    public IReadOnlyDictionary<string, ObservedKubeNode> KubernetesNodes { get; init; } =
        new Dictionary<string, ObservedKubeNode>();

    /// <summary>The last etcd snapshot taken before an upgrade, and for which target versions.</summary>
    public EtcdBackup? LastEtcdBackup { get; init; }
}

/// <summary>One node as probed over SSH.</summary>
public sealed record ObservedNode(string Serial)
{
    /// <summary>False when SSH failed; nothing else of this record is meaningful then.</summary>
    public bool Reachable { get; init; } = true;

    /// <summary>SHA-256 (lower-case hex) of each present file the installer manages (binaries, unit files), by path.</summary>
    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();

    /// <summary>systemd units by unit name (<c>etcd.service</c>); a unit absent here is not installed.</summary>
    public IReadOnlyDictionary<string, ObservedUnit> Units { get; init; } = new Dictionary<string, ObservedUnit>();

    /// <summary>
    /// Version of each component: of the running process (its version endpoint) when it runs, else of the binary.
    /// </summary>
    public IReadOnlyDictionary<ClusterComponent, string> Versions { get; init; } = new Dictionary<ClusterComponent, string>();

    /// <summary>Certificates and kubeconfigs by path (of the certificate or the kubeconfig file).</summary>
    public IReadOnlyDictionary<string, ObservedCredential> Credentials { get; init; } =
        new Dictionary<string, ObservedCredential>();

    /// <summary>Whether etcd's data directory holds a member (it was started once).</summary>
    public bool EtcdDataPresent { get; init; }
}

public enum UnitState
{
    Inactive,
    Active,
    Failed,
}

/// <summary>A systemd unit: its state, the SHA-256 of its unit file, and the component's own health check.</summary>
/// <param name="Healthy">etcd: endpoint health; kube-apiserver: <c>/readyz</c>; others: <c>/healthz</c>.</param>
public sealed record ObservedUnit(UnitState State, string ContentHash, bool Healthy)
{
    /// <summary>When the unit last entered the active state (<c>ActiveEnterTimestamp</c>); null when unknown.</summary>
    public DateTimeOffset? ActiveSince { get; init; }
}

/// <summary>A certificate (or the client certificate of a kubeconfig) found on a node.</summary>
/// <param name="Server">For kubeconfigs: the API server URL they point at.</param>
public sealed record ObservedCredential(
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    IReadOnlyList<string> SubjectAltNames,
    string? Server = null)
{
    /// <summary>The file's modification time; a component started before it has not loaded it. Null when unknown.</summary>
    public DateTimeOffset? ModifiedAt { get; init; }
}

/// <summary>An etcd member as <c>MemberList</c> reports it; a member added but never started has an empty name.</summary>
public sealed record EtcdMember(ulong Id, string Name, string PeerUrl, bool IsLearner, bool Healthy);

/// <summary>A Kubernetes Node object.</summary>
/// <param name="CordonedByInstaller">The installer's annotation that it cordoned the node (and so may uncordon it).</param>
public sealed record ObservedKubeNode(
    string Name,
    bool Ready,
    bool Unschedulable,
    bool CordonedByInstaller,
    IReadOnlyDictionary<string, string> Labels);

/// <summary>An etcd snapshot taken before an upgrade to these versions.</summary>
public sealed record EtcdBackup(string KubernetesVersion, string EtcdVersion, DateTimeOffset TakenAt);
