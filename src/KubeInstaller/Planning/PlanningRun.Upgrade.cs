using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

internal sealed partial class PlanningRun
{
    /// <summary>
    /// Rolling upgrade of components running another version than the definition's: an etcd backup for the target
    /// versions first; then etcd members, then control-plane nodes, then kubelet nodes (cordon, drain, upgrade,
    /// uncordon), each one node at a time, and nothing while any etcd member is unhealthy.
    /// </summary>
    private List<ClusterOperation> PlanUpgrade(Operations ops)
    {
        var etcd = Outdated(topology.ControlPlane, [ClusterComponent.Etcd]);
        var controlPlane = Outdated(topology.ControlPlane, ClusterComponents.ControlPlane);
        var kubelets = Outdated(topology.KubeletNodes, ClusterComponents.Node);
        if (etcd.Count == 0 && controlPlane.Count == 0 && kubelets.Count == 0)
        {
            return [];
        }

        if (UnhealthyEtcdMembers() is { Count: > 0 } unhealthy)
        {
            Block($"upgrade: waiting; etcd member(s) unhealthy: {string.Join(", ", unhealthy)}");
            return [];
        }

        if (observed.LastEtcdBackup is not { } backup
            || backup.KubernetesVersion != definition.KubernetesVersion || backup.EtcdVersion != definition.EtcdVersion)
        {
            return [ops.BackupEtcd(definition)];
        }

        if (etcd.Count > 0)
        {
            var (node, statuses) = etcd[0];
            return Converge(ops, node, statuses, forceRestart: true);
        }

        if (controlPlane.Count > 0)
        {
            var (node, statuses) = controlPlane[0];
            if (UnhealthyControlPlanes(except: node, ClusterComponents.ControlPlane) is { Count: > 0 } down)
            {
                Block($"upgrade: {node.Name} waits; control plane not healthy on {string.Join(", ", down)}");
                return [];
            }

            return Converge(ops, node, statuses, forceRestart: true);
        }

        var (kubeletNode, kubeletStatuses) = kubelets[0];
        var list = new List<ClusterOperation>();
        var registered = observed.KubernetesNodes.GetValueOrDefault(kubeletNode.Name);
        var drain = registered is not null && observed.ApiServerReady;
        if (registered is not null && !observed.ApiServerReady)
        {
            Block($"upgrade: {kubeletNode.Name} waits; API server not ready to drain it");
            return [];
        }

        if (drain && !registered!.Unschedulable)
        {
            list.Add(ops.CordonNode(kubeletNode.Name));
        }

        if (drain)
        {
            list.Add(ops.DrainNode(kubeletNode.Name));
        }

        list.AddRange(Converge(ops, kubeletNode, kubeletStatuses, forceRestart: true));
        if (drain && (!registered!.Unschedulable || registered.CordonedByInstaller))
        {
            list.Add(ops.UncordonNode(kubeletNode.Name));
        }

        return list;
    }

    /// <summary>Reachable nodes with components running another version, by node name; unreachable ones are reported.</summary>
    private List<(InventoryNode Node, List<ComponentStatus> Statuses)> Outdated(IReadOnlyList<InventoryNode> nodes, IReadOnlyList<ClusterComponent> components)
    {
        var list = new List<(InventoryNode, List<ComponentStatus>)>();
        foreach (var node in nodes)
        {
            if (Reachable(node) is not { } probe)
            {
                continue;
            }

            var statuses = components.Select(c => Status(node, probe, c)).Where(s => s.Outdated).ToList();
            if (statuses.Count > 0)
            {
                list.Add((node, statuses));
            }
        }

        return list;
    }
}
