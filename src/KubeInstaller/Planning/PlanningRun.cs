using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>One planning pass over one observation; each phase method returns its operations (empty = no work).</summary>
internal sealed partial class PlanningRun(
    ClusterDefinition definition,
    ClusterTopology topology,
    ObservedCluster observed,
    DateTimeOffset now)
{
    private readonly List<string> _blockers = [];

    public IReadOnlyList<string> Blockers => _blockers;

    public List<ClusterOperation> Run(ClusterPhase phase) => phase switch
    {
        ClusterPhase.EtcdCluster => PlanEtcd(new Operations(phase)),
        ClusterPhase.Certificates => PlanCertificates(new Operations(phase)),
        ClusterPhase.ControlPlane => PlanComponents(new Operations(phase), topology.ControlPlane, ClusterComponents.ControlPlane, controlPlane: true),
        ClusterPhase.Kubelets => PlanComponents(new Operations(phase), topology.KubeletNodes, ClusterComponents.Node, controlPlane: false),
        ClusterPhase.Nodes => PlanNodes(new Operations(phase)),
        ClusterPhase.Upgrade => PlanUpgrade(new Operations(phase)),
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };

    private void Block(string reason) => _blockers.Add(reason);

    /// <summary>The probe result of a node, or null when it was not reachable.</summary>
    private ObservedNode? Reachable(InventoryNode node) =>
        observed.Nodes.TryGetValue(node.Serial, out var o) && o.Reachable ? o : null;

    /// <summary>How one component on one node compares with the definition.</summary>
    private sealed record ComponentStatus(
        ClusterComponent Component,
        BinaryPin Pin,
        string UnitContent,
        bool BinaryMismatch,
        bool UnitMismatch,
        UnitState? State,
        bool Healthy,
        bool Outdated,
        bool StaleCredentials)
    {
        public bool Active => State == UnitState.Active;

        /// <summary>Something to write, start or restart (to load renewed credentials) at the current version.</summary>
        public bool NeedsWork => BinaryMismatch || UnitMismatch || !Active || StaleCredentials;

        /// <summary>Restarting it would interrupt a healthy running component.</summary>
        public bool Disruptive => NeedsWork && Active && Healthy;
    }

    private ComponentStatus Status(InventoryNode node, ObservedNode probe, ClusterComponent component)
    {
        var pin = definition.PinOf(component)!; // validated
        var content = NodeConfiguration.RenderUnit(component, node, definition, topology);
        probe.Units.TryGetValue(component.UnitName(), out var unit);
        var binaryMismatch = !probe.Files.TryGetValue(component.BinaryPath(), out var hash) || hash != pin.Sha256;
        var unitMismatch = unit is null || unit.ContentHash != NodeConfiguration.Sha256Hex(content);
        var outdated = unit?.State == UnitState.Active
            && probe.Versions.TryGetValue(component, out var version) && version != pin.Version;
        var stale = unit is { State: UnitState.Active, ActiveSince: { } since }
            && NodeConfiguration.CredentialsReadBy(component).Any(path =>
                probe.Credentials.TryGetValue(path, out var c) && c.ModifiedAt is { } modified && modified > since);
        return new ComponentStatus(component, pin, content, binaryMismatch, unitMismatch, unit?.State, unit?.Healthy ?? false, outdated, stale);
    }

    /// <summary>Write what differs, (re)start, then wait: the ops that bring components to their desired state.</summary>
    private static List<ClusterOperation> Converge(Operations ops, InventoryNode node, IReadOnlyList<ComponentStatus> statuses, bool forceRestart = false)
    {
        var list = new List<ClusterOperation>();
        list.AddRange(statuses.Where(s => s.BinaryMismatch).Select(s => ops.WriteBinary(node, s.Pin)));
        list.AddRange(statuses.Where(s => s.UnitMismatch).Select(s => ops.WriteUnit(node, s.Component, s.UnitContent)));
        var started = statuses.Where(s => s.NeedsWork || forceRestart).ToList();
        list.AddRange(started.Select(s => s.State is UnitState.Active or UnitState.Failed
            ? ops.RestartUnit(node, s.Component)
            : ops.StartUnit(node, s.Component)));
        list.AddRange(started.Select(s => ops.WaitHealthy(node, s.Component)));
        return list;
    }

    /// <summary>Why a certificate or kubeconfig must be issued, or null when the one on the node will do.</summary>
    private string? CredentialProblem(ObservedNode probe, CredentialSpec spec)
    {
        if (!probe.Credentials.TryGetValue(spec.Path, out var found))
        {
            return "missing";
        }

        // renew once two-thirds of the lifetime has passed (DESIGN.md, PKI)
        var renewAt = found.NotBefore + ((found.NotAfter - found.NotBefore) * 2 / 3);
        if (now >= found.NotAfter)
        {
            return "expired";
        }

        if (now >= renewAt)
        {
            return "expiring";
        }

        if (spec.SubjectAltNames.Any(san => !found.SubjectAltNames.Contains(san, StringComparer.OrdinalIgnoreCase)))
        {
            return "names changed";
        }

        if (spec.Server is not null && !string.Equals(spec.Server, found.Server, StringComparison.Ordinal))
        {
            return "server changed";
        }

        return null;
    }

    private List<ClusterOperation> IssueCredentials(Operations ops, InventoryNode node, ObservedNode probe, IEnumerable<CredentialSpec> specs)
    {
        var list = new List<ClusterOperation>();
        foreach (var spec in specs)
        {
            if (CredentialProblem(probe, spec) is { } reason)
            {
                list.Add(ops.IssueCredential(node, spec, reason));
            }
        }

        return list;
    }

    private List<ClusterOperation> PlanCertificates(Operations ops)
    {
        var list = new List<ClusterOperation>();
        foreach (var node in topology.Inventory.Where(topology.IsDesired))
        {
            if (Reachable(node) is not { } probe)
            {
                Block($"{node.Name}: unreachable; certificates not checked");
                continue;
            }

            list.AddRange(IssueCredentials(ops, node, probe, NodeConfiguration.Credentials(node, definition, topology)));
            if (topology.IsControlPlane(node) && !probe.Files.ContainsKey(NodeConfiguration.ServiceAccountKeyPath))
            {
                list.Add(ops.WriteServiceAccountKey(node));
            }
        }

        return list;
    }

    /// <summary>
    /// Control plane (or kubelets): nodes where nothing healthy would be interrupted (new or broken) all at once;
    /// otherwise the first node by name alone, and only while every other node of the set is healthy.
    /// Components at another version are left to the upgrade phase.
    /// </summary>
    private List<ClusterOperation> PlanComponents(Operations ops, IReadOnlyList<InventoryNode> nodes, IReadOnlyList<ClusterComponent> components, bool controlPlane)
    {
        var quiet = new List<ClusterOperation>();
        (InventoryNode Node, List<ComponentStatus> Work)? disruptive = null;
        foreach (var node in nodes)
        {
            if (Reachable(node) is not { } probe)
            {
                Block($"{node.Name}: unreachable; {(controlPlane ? "control plane" : "kubelet")} not checked");
                continue;
            }

            var work = components.Select(c => Status(node, probe, c)).Where(s => !s.Outdated && s.NeedsWork).ToList();
            if (work.Count == 0)
            {
                continue;
            }

            // repair what is down first (it interrupts nothing); restarts of healthy components come after
            var repairs = work.Where(s => !s.Disruptive).ToList();
            if (repairs.Count > 0)
            {
                quiet.AddRange(Converge(ops, node, repairs));
            }
            else
            {
                disruptive ??= (node, work);
            }
        }

        if (quiet.Count > 0 || disruptive is not { } first)
        {
            return quiet;
        }

        if (controlPlane)
        {
            var unhealthy = UnhealthyControlPlanes(except: first.Node, ClusterComponents.ControlPlane);
            if (unhealthy.Count > 0)
            {
                Block($"{first.Node.Name}: control-plane restart held back; control plane not healthy on {string.Join(", ", unhealthy)}");
                return [];
            }

            if (UnhealthyEtcdMembers() is { Count: > 0 } etcd)
            {
                Block($"{first.Node.Name}: control-plane restart held back; etcd member(s) unhealthy: {string.Join(", ", etcd)}");
                return [];
            }
        }

        return Converge(ops, first.Node, first.Work);
    }

    /// <summary>Control-plane nodes other than <paramref name="except"/> where any of the components is not running healthy.</summary>
    private List<string> UnhealthyControlPlanes(InventoryNode except, IReadOnlyList<ClusterComponent> components)
    {
        var list = new List<string>();
        foreach (var node in topology.ControlPlane.Where(n => n.Name != except.Name))
        {
            var probe = Reachable(node);
            var healthy = probe is not null && components.All(c =>
                probe.Units.TryGetValue(c.UnitName(), out var unit) && unit.State == UnitState.Active && unit.Healthy);
            if (!healthy)
            {
                list.Add(node.Name);
            }
        }

        return list;
    }

    private List<string> UnhealthyEtcdMembers(EtcdMember? except = null) =>
        [.. observed.EtcdMembers.Where(m => !m.Healthy && m != except).Select(MemberName).Order(StringComparer.Ordinal)];

    private string MemberName(EtcdMember member) =>
        topology.NodeOf(member)?.Name ?? (member.Name.Length > 0 ? member.Name : member.PeerUrl);
}
