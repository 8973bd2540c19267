using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.BootServer.Kube;

/// <summary>A component on a node as last probed: its unit's state (active, failed, inactive, or not-installed), health, version and the defined one.</summary>
public sealed record ComponentStatus(string Component, string State, bool Healthy, string? Version, string DesiredVersion, DateTimeOffset? ActiveSince);

/// <summary>A node of the inventory as the installer last saw it.</summary>
public sealed record NodeStatus(
    string Serial, string Name, string Address, string Role, string MachineState, bool Reachable, bool EtcdDataPresent,
    IReadOnlyList<ComponentStatus> Components);

public sealed record EtcdMemberStatus(string Id, string Name, string PeerUrl, bool Learner, bool Healthy);

/// <summary>One operation of the plan the installer would run next (without file contents).</summary>
public sealed record PlannedOperation(string Phase, string Kind, IReadOnlyList<string> Nodes, string Description);

/// <summary>
/// <c>GET /api/v1/cluster/status</c>. The per-node view, the phase, the next operations, blockers and
/// <see cref="Converged"/> come from the leader's latest probe round (planned again here from it: the planner is
/// pure); on a boot server that does not lead they are empty and <see cref="Note"/> says where to ask. The last
/// operation, recent errors and the last backup come from etcd and are the same on every boot server.
/// </summary>
public sealed record ClusterStatusView(
    bool Defined,
    long Revision,
    string? ClusterName,
    string? KubernetesVersion,
    string? EtcdVersion,
    bool InstallerEnabled,
    string? InstallerDisabledReason,
    bool Leader,
    string? LeaderId,
    DateTimeOffset? ObservedAt,
    string? Phase,
    bool? Converged,
    IReadOnlyList<string> Blockers,
    IReadOnlyList<string> DefinitionErrors,
    IReadOnlyList<PlannedOperation> NextOperations,
    IReadOnlyList<NodeStatus> Nodes,
    IReadOnlyList<EtcdMemberStatus> EtcdMembers,
    bool? ApiServerReady,
    EtcdBackupRecord? LastBackup,
    OperationRecord? LastOperation,
    IReadOnlyList<OperationRecord> RecentErrors,
    string? Note)
{
    public static ClusterStatusView Build(
        ClusterDefinition? definition,
        long revision,
        bool enabled,
        string? disabledReason,
        bool leader,
        string? leaderId,
        ObservedRound? round,
        IReadOnlyList<OperationRecord> recent,
        EtcdBackupRecord? lastBackup,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(recent);
        var errors = definition is null ? [] : ClusterDefinitionValidator.Validate(definition);
        var last = recent.Count > 0 ? recent[^1] : null;
        var failures = recent.Where(r => r.Outcome == OperationOutcome.Failed).Reverse().Take(10).ToList();
        string? note = !enabled
            ? "the installer is off on this boot server: " + disabledReason
            : definition is null
                ? "no cluster is defined: PUT /api/v1/cluster (nekkoctl cluster set -f FILE)"
                : !leader
                    ? $"this boot server does not lead the installer (leader: {leaderId ?? "none elected"}): the per-node view, phase and next operations are the leader's; ask it. History, errors and the last backup are from etcd."
                    : round is null ? "no probe round yet" : null;
        if (definition is null || round is null)
        {
            return new ClusterStatusView(definition is not null, revision, definition?.Name, definition?.KubernetesVersion, definition?.EtcdVersion,
                enabled, disabledReason, leader, leaderId, null, null, null, [], errors, [], [], [], null, lastBackup, last, failures, note);
        }

        var plan = ClusterPlanner.Plan(definition, round.Inventory, round.Observed, now);
        var nodes = round.Inventory.Select(n => NodeOf(n, round.Observed, definition)).ToList();
        var members = round.Observed.EtcdMembers
            .Select(m => new EtcdMemberStatus(m.Id.ToString("x", System.Globalization.CultureInfo.InvariantCulture), m.Name, m.PeerUrl, m.IsLearner, m.Healthy))
            .ToList();
        return new ClusterStatusView(true, revision, definition.Name, definition.KubernetesVersion, definition.EtcdVersion,
            enabled, disabledReason, leader, leaderId, round.At,
            plan.Phase is { } phase ? KubePhases.ToWire(phase) : null, plan.IsConverged,
            plan.Blockers, plan.DefinitionErrors,
            [.. plan.Operations.Select(o => new PlannedOperation(KubePhases.ToWire(o.Phase), o.Kind.ToString(), [.. o.Nodes], o.Description))],
            nodes, members, round.Observed.ApiServerReady, lastBackup, last, failures, note);
    }

    private static NodeStatus NodeOf(InventoryNode node, ObservedCluster observed, ClusterDefinition definition)
    {
        var probe = observed.Nodes.GetValueOrDefault(node.Serial);
        var reachable = probe is { Reachable: true };
        var components = new List<ComponentStatus>();
        if (reachable)
        {
            foreach (var component in Enum.GetValues<ClusterComponent>())
            {
                var unit = probe!.Units.GetValueOrDefault(component.UnitName());
                var version = probe.Versions.GetValueOrDefault(component);
                if (unit is null && version is null)
                {
                    continue;
                }

                components.Add(new ComponentStatus(
                    component.ToWire(),
                    unit is null ? "not-installed" : unit.State.ToString().ToLowerInvariant(),
                    unit?.Healthy == true,
                    version,
                    definition.VersionOf(component),
                    unit?.ActiveSince));
            }
        }

        return new NodeStatus(node.Serial, node.Name, node.Address, node.Role, node.State.ToString().ToLowerInvariant(), reachable,
            probe?.EtcdDataPresent == true, components);
    }
}
