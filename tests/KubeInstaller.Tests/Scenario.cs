using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Tests;

/// <summary>Builders: a definition, an inventory, and the observation of a cluster that is exactly as defined.</summary>
internal static class Scenario
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public const string K8s = "1.31.2";
    public const string K8sNext = "1.32.0";
    public const string Etcd = "3.5.16";
    public const string EtcdNext = "3.5.17";
    public const string Containerd = "1.7.22";

    public static string Hash(string text) => NodeConfiguration.Sha256Hex(text);

    public static BinaryPin Pin(ClusterComponent component, string version) =>
        new(component, version, $"{component.ToWire()}-{version}-amd64", Hash($"{component.ToWire()} {version}"));

    public static ClusterDefinition Definition(int controlPlaneCount = 3) => new(
        "lab", K8s, Etcd, Containerd, controlPlaneCount, "10.244.0.0/16", "10.96.0.0/12", "cluster.local",
        NodeSelector.ForRole("control-plane"), NodeSelector.ForRole("worker"),
        [
            .. Enum.GetValues<ClusterComponent>().Where(c => c is not (ClusterComponent.Etcd or ClusterComponent.ContainerRuntime))
                .SelectMany(c => new[] { Pin(c, K8s), Pin(c, K8sNext) }),
            Pin(ClusterComponent.Etcd, Etcd), Pin(ClusterComponent.Etcd, EtcdNext),
            Pin(ClusterComponent.ContainerRuntime, Containerd),
        ]);

    public static InventoryNode Node(string name, string role, int host, NodeState state = NodeState.Healthy) =>
        new(name.ToUpperInvariant(), $"10.0.0.{host}", role, new Dictionary<string, string>(), state);

    public static InventoryNode Cp(int i, NodeState state = NodeState.Healthy) => Node($"cp{i}", "control-plane", 10 + i, state);

    public static InventoryNode Worker(int i, NodeState state = NodeState.Healthy) => Node($"w{i}", "worker", 20 + i, state);

    /// <summary>cp1..cp3 and w1..w2, all healthy.</summary>
    public static List<InventoryNode> Inventory(int controlPlanes = 3, int workers = 2) =>
        [.. Enumerable.Range(1, controlPlanes).Select(i => Cp(i)), .. Enumerable.Range(1, workers).Select(i => Worker(i))];

    public static ClusterPlan Plan(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory, ObservedCluster observed) =>
        ClusterPlanner.Plan(definition, inventory, observed, Now);

    public static List<string> Descriptions(this ClusterPlan plan) => [.. plan.Operations.Select(o => o.Description)];

    public static List<OperationKind> Kinds(this ClusterPlan plan) => [.. plan.Operations.Select(o => o.Kind)];

    public static ObservedNode Fresh(InventoryNode node) => new(node.Serial);

    /// <summary>Every node probed, reachable, with nothing installed.</summary>
    public static ObservedCluster Bare(IEnumerable<InventoryNode> inventory) => new()
    {
        Nodes = inventory.ToDictionary(n => n.Serial, Fresh),
    };

    /// <summary>The observation of a cluster that is exactly as <paramref name="definition"/> wants it.</summary>
    public static ObservedCluster Converged(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory)
    {
        var first = new ClusterTopology(definition, inventory, ObservedCluster.Empty);
        var members = first.ControlPlane.Select((n, i) => new EtcdMember((ulong)(i + 1), n.Name, NodeConfiguration.PeerUrl(n), false, true)).ToList();
        var topology = new ClusterTopology(definition, inventory, new ObservedCluster { EtcdMembers = members });
        var nodes = new Dictionary<string, ObservedNode>();
        var kubeNodes = new Dictionary<string, ObservedKubeNode>();
        foreach (var node in inventory)
        {
            nodes[node.Serial] = topology.IsDesired(node) ? Installed(definition, topology, node) : Fresh(node);
            if (topology.RunsKubelet(node))
            {
                var role = topology.IsControlPlane(node) ? PlanningRun.ControlPlaneRoleLabel : PlanningRun.WorkerRoleLabel;
                kubeNodes[node.Name] = new ObservedKubeNode(node.Name, true, false, false, new Dictionary<string, string> { [role] = "" });
            }
        }

        return new ObservedCluster
        {
            Nodes = nodes,
            EtcdMembers = members,
            ApiServerReady = true,
            KubernetesNodes = kubeNodes,
        };
    }

    private static ObservedNode Installed(ClusterDefinition definition, ClusterTopology topology, InventoryNode node)
    {
        var components = new List<ClusterComponent>();
        if (topology.IsControlPlane(node))
        {
            components.Add(ClusterComponent.Etcd);
            components.AddRange(ClusterComponents.ControlPlane);
        }

        if (topology.RunsKubelet(node))
        {
            components.AddRange(ClusterComponents.Node);
        }

        var files = components.ToDictionary(c => c.BinaryPath(), c => definition.PinOf(c)!.Sha256);
        if (topology.IsControlPlane(node))
        {
            files[NodeConfiguration.ServiceAccountKeyPath] = Hash("sa");
        }

        return new ObservedNode(node.Serial)
        {
            Files = files,
            Units = components.ToDictionary(
                c => c.UnitName(),
                c => new ObservedUnit(UnitState.Active, Hash(NodeConfiguration.RenderUnit(c, node, definition, topology)), true)
                {
                    ActiveSince = Now.AddDays(-1),
                }),
            Versions = components.ToDictionary(c => c, definition.VersionOf),
            Credentials = NodeConfiguration.Credentials(node, definition, topology).ToDictionary(
                s => s.Path,
                s => new ObservedCredential(Now.AddDays(-1), Now.AddDays(364), s.SubjectAltNames, s.Server) { ModifiedAt = Now.AddDays(-2) }),
            EtcdDataPresent = topology.IsControlPlane(node),
        };
    }

    // ---- mutations of an observation ----

    public static ObservedCluster WithNode(this ObservedCluster observed, string name, Func<ObservedNode, ObservedNode> change)
    {
        var serial = name.ToUpperInvariant();
        var nodes = new Dictionary<string, ObservedNode>(observed.Nodes) { [serial] = change(observed.Nodes.GetValueOrDefault(serial) ?? new ObservedNode(serial)) };
        return observed with { Nodes = nodes };
    }

    public static ObservedCluster Unreachable(this ObservedCluster observed, string name) =>
        observed.WithNode(name, n => new ObservedNode(n.Serial) { Reachable = false });

    public static ObservedCluster WithUnit(this ObservedCluster observed, string name, ClusterComponent component, Func<ObservedUnit, ObservedUnit> change) =>
        observed.WithNode(name, n => n with
        {
            Units = new Dictionary<string, ObservedUnit>(n.Units) { [component.UnitName()] = change(n.Units[component.UnitName()]) },
        });

    public static ObservedCluster WithFile(this ObservedCluster observed, string name, string path, string sha256) =>
        observed.WithNode(name, n => n with { Files = new Dictionary<string, string>(n.Files) { [path] = sha256 } });

    public static ObservedCluster WithVersion(this ObservedCluster observed, string name, ClusterComponent component, string version) =>
        observed.WithNode(name, n => n with { Versions = new Dictionary<ClusterComponent, string>(n.Versions) { [component] = version } });

    public static ObservedCluster WithCredential(this ObservedCluster observed, string name, string path, Func<ObservedCredential, ObservedCredential?> change) =>
        observed.WithNode(name, n =>
        {
            var credentials = new Dictionary<string, ObservedCredential>(n.Credentials);
            if (change(credentials[path]) is { } changed)
            {
                credentials[path] = changed;
            }
            else
            {
                credentials.Remove(path);
            }

            return n with { Credentials = credentials };
        });

    public static ObservedCluster WithMember(this ObservedCluster observed, string name, Func<EtcdMember, EtcdMember?> change) =>
        observed with
        {
            EtcdMembers = [.. observed.EtcdMembers.Select(m => m.Name == name ? change(m) : m).OfType<EtcdMember>()],
        };

    public static ObservedCluster WithKubeNode(this ObservedCluster observed, string name, Func<ObservedKubeNode?, ObservedKubeNode?> change)
    {
        var nodes = new Dictionary<string, ObservedKubeNode>(observed.KubernetesNodes);
        if (change(nodes.GetValueOrDefault(name)) is { } changed)
        {
            nodes[name] = changed;
        }
        else
        {
            nodes.Remove(name);
        }

        return observed with { KubernetesNodes = nodes };
    }

    /// <summary>Every node running <paramref name="component"/> reports <paramref name="version"/> with its pinned binary.</summary>
    public static ObservedCluster RunningVersion(this ObservedCluster observed, ClusterComponent component, string version)
    {
        var result = observed;
        foreach (var (serial, node) in observed.Nodes)
        {
            if (node.Units.ContainsKey(component.UnitName()))
            {
                result = result.WithVersion(serial, component, version).WithFile(serial, component.BinaryPath(), Pin(component, version).Sha256);
            }
        }

        return result;
    }
}
