using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>
/// Which inventory machines are control-plane nodes and which run kubelets, decided from the definition, the
/// inventory and the current etcd membership. Sticky: a current member keeps its place while it is not leaving
/// and still matches the selector, even when it is unhealthy for a while; the self-healing loop decides when a
/// machine is retired. New places go to healthy machines in name order.
/// </summary>
internal sealed class ClusterTopology
{
    private readonly HashSet<string> _controlPlane;
    private readonly HashSet<string> _kubelets;
    private readonly Dictionary<string, InventoryNode> _byName;

    public ClusterTopology(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory, ObservedCluster observed)
    {
        Inventory = [.. inventory.OrderBy(n => n.Name, StringComparer.Ordinal)];
        _byName = [];
        foreach (var node in Inventory)
        {
            _byName.TryAdd(node.Name, node);
        }

        var members = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in observed.EtcdMembers)
        {
            if (NodeOf(member) is { } node)
            {
                members.Add(node.Name);
            }
        }

        bool Eligible(InventoryNode n) => !n.IsLeaving && definition.ControlPlaneSelector.Matches(n);
        var kept = Inventory.Where(n => members.Contains(n.Name) && Eligible(n)).Take(definition.ControlPlaneCount);
        var added = Inventory.Where(n => !members.Contains(n.Name) && Eligible(n) && n.State == NodeState.Healthy);
        ControlPlane = [.. kept.Concat(added).Take(Math.Max(0, definition.ControlPlaneCount)).OrderBy(n => n.Name, StringComparer.Ordinal)];
        _controlPlane = [.. ControlPlane.Select(n => n.Name)];

        Workers = [.. Inventory.Where(n => !_controlPlane.Contains(n.Name) && !n.IsLeaving
            && definition.WorkerSelector.Matches(n)
            && (n.State == NodeState.Healthy || observed.KubernetesNodes.ContainsKey(n.Name)))];
        KubeletNodes = definition.ControlPlaneRunsKubelet
            ? [.. ControlPlane.Concat(Workers).OrderBy(n => n.Name, StringComparer.Ordinal)]
            : Workers;
        _kubelets = [.. KubeletNodes.Select(n => n.Name)];

        ApiEndpoint = definition.ControlPlaneEndpoint
            ?? (ControlPlane.Count > 0 ? NodeConfiguration.ApiServerUrl(ControlPlane[0]) : NodeConfiguration.LocalApiServer);
    }

    /// <summary>Every inventory machine, by name.</summary>
    public IReadOnlyList<InventoryNode> Inventory { get; }

    /// <summary>The desired control-plane nodes (etcd members), by name.</summary>
    public IReadOnlyList<InventoryNode> ControlPlane { get; }

    /// <summary>The desired workers, by name.</summary>
    public IReadOnlyList<InventoryNode> Workers { get; }

    /// <summary>The desired nodes that run containerd, kubelet and kube-proxy, by name.</summary>
    public IReadOnlyList<InventoryNode> KubeletNodes { get; }

    /// <summary>The API URL in kubelet and kube-proxy kubeconfigs.</summary>
    public string ApiEndpoint { get; }

    public bool IsControlPlane(InventoryNode node) => _controlPlane.Contains(node.Name);

    public bool RunsKubelet(InventoryNode node) => _kubelets.Contains(node.Name);

    public bool IsDesired(InventoryNode node) => IsControlPlane(node) || RunsKubelet(node);

    public bool IsDesiredKubelet(string nodeName) => _kubelets.Contains(nodeName);

    public InventoryNode? NodeNamed(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The machine of an etcd member: by member name, else (never-started members) by peer URL.</summary>
    public InventoryNode? NodeOf(EtcdMember member)
    {
        if (member.Name.Length > 0)
        {
            return _byName.GetValueOrDefault(member.Name);
        }

        return Inventory.FirstOrDefault(n => string.Equals(NodeConfiguration.PeerUrl(n), member.PeerUrl, StringComparison.Ordinal));
    }
}
