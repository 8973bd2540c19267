using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

internal sealed partial class PlanningRun
{
    public const string ControlPlaneRoleLabel = "node-role.kubernetes.io/control-plane";
    public const string WorkerRoleLabel = "node-role.kubernetes.io/worker";

    /// <summary>
    /// Kubernetes Node objects: role labels; uncordon what the installer cordoned once it is up to date and Ready;
    /// cordon, drain and delete one departed node; stop the units of machines that have left the cluster.
    /// </summary>
    private List<ClusterOperation> PlanNodes(Operations ops)
    {
        var list = new List<ClusterOperation>();
        var kubeNodes = observed.KubernetesNodes;
        if (!observed.ApiServerReady)
        {
            if (topology.KubeletNodes.Count > 0 && topology.ControlPlane.Count > 0)
            {
                Block("kubernetes: API server not ready; node labels and removals wait");
            }
        }
        else
        {
            foreach (var node in topology.KubeletNodes)
            {
                if (!kubeNodes.TryGetValue(node.Name, out var kubeNode))
                {
                    continue; // the kubelet registers it
                }

                var role = topology.IsControlPlane(node) ? ControlPlaneRoleLabel : WorkerRoleLabel;
                if (!kubeNode.Labels.TryGetValue(role, out var value) || value.Length != 0)
                {
                    list.Add(ops.LabelNode(node.Name, [new(role, "")]));
                }
            }

            foreach (var node in topology.KubeletNodes)
            {
                if (kubeNodes.TryGetValue(node.Name, out var kubeNode) && kubeNode.Unschedulable && kubeNode.CordonedByInstaller
                    && kubeNode.Ready && !KubeletOutdated(node))
                {
                    list.Add(ops.UncordonNode(node.Name));
                }
            }

            var departed = kubeNodes.Keys.Where(name => !topology.IsDesiredKubelet(name)).Order(StringComparer.Ordinal).FirstOrDefault();
            if (departed is not null)
            {
                if (!kubeNodes[departed].Unschedulable)
                {
                    list.Add(ops.CordonNode(departed));
                }

                list.Add(ops.DrainNode(departed));

                // stop its kubelet before deleting the Node, or the kubelet registers it again
                if (topology.NodeNamed(departed) is { } machine && Reachable(machine) is { } probe)
                {
                    var kubelet = ActiveUnits(probe, [ClusterComponent.Kubelet, ClusterComponent.KubeProxy]);
                    if (kubelet.Count > 0)
                    {
                        list.Add(ops.StopUnits(machine, kubelet));
                    }
                }

                list.Add(ops.DeleteNode(departed));
            }
        }

        // machines out of the cluster: stop what the installer ran, once they are no etcd member and no Node
        foreach (var node in topology.Inventory.Where(n => !topology.IsDesired(n)))
        {
            if (Reachable(node) is not { } probe || kubeNodes.ContainsKey(node.Name)
                || observed.EtcdMembers.Any(m => topology.NodeOf(m)?.Name == node.Name))
            {
                continue;
            }

            var units = ActiveUnits(probe, Enum.GetValues<ClusterComponent>());
            if (units.Count > 0)
            {
                list.Add(ops.StopUnits(node, units));
            }
        }

        return list;
    }

    private static List<string> ActiveUnits(ObservedNode probe, IEnumerable<ClusterComponent> components) =>
        [.. components.Select(c => c.UnitName()).Where(u => probe.Units.TryGetValue(u, out var unit) && unit.State != UnitState.Inactive)];

    private bool KubeletOutdated(InventoryNode node) =>
        Reachable(node) is not { } probe || ClusterComponents.Node.Any(c => Status(node, probe, c).Outdated);
}
