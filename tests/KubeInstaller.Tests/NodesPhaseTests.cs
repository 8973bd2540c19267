using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

public class NodesPhaseTests
{
    private static readonly ClusterDefinition Def = Definition();

    private static ObservedKubeNode KubeNode(string name, bool unschedulable = false, bool byInstaller = false) =>
        new(name, true, unschedulable, byInstaller, new Dictionary<string, string> { [PlanningRun.WorkerRoleLabel] = "" });

    [Theory]
    [InlineData("w1", "node-role.kubernetes.io/worker")]
    [InlineData("cp2", "node-role.kubernetes.io/control-plane")]
    public void MissingRoleLabel_IsSet(string node, string label)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode(node, k => k! with { Labels = new Dictionary<string, string>() });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal([$"node {node}: label {label}="], plan.Descriptions());
    }

    [Theory]
    [InlineData(NodeState.Retiring)]
    [InlineData(NodeState.Retired)]
    public void DepartedWorker_CordonedDrainedDeleted(NodeState state)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        inventory[3] = Worker(1, state);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(ClusterPhase.Nodes, plan.Phase);
        Assert.Equal(["node w1: cordon", "node w1: drain", "w1: stop kubelet.service kube-proxy.service", "node w1: delete"], plan.Descriptions());
    }

    [Fact]
    public void DepartedWorker_AfterDeletion_UnitsStopped()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("w1", _ => null);
        inventory[3] = Worker(1, NodeState.Retiring);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["w1: stop containerd.service kubelet.service kube-proxy.service"], plan.Descriptions());
    }

    [Fact]
    public void DepartedWorker_KubeletStopped_RemainingUnitsStoppedAfterDeletion()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        inventory[3] = Worker(1, NodeState.Retiring);
        var simulator = new ClusterSimulator(Def, inventory, observed);

        simulator.RunToConvergence();

        Assert.Equal(
            ["node w1: cordon", "node w1: drain", "w1: stop kubelet.service kube-proxy.service", "node w1: delete", "w1: stop containerd.service"],
            simulator.AllOperations.Select(o => o.Description));
    }

    [Fact]
    public void DepartedWorkerAlreadyCordoned_IsNotCordonedAgain()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("w2", k => k! with { Unschedulable = true });
        inventory[4] = Worker(2, NodeState.Retired);

        var plan = Plan(Def, inventory, observed.Unreachable("w2"));

        Assert.Equal(["node w2: drain", "node w2: delete"], plan.Descriptions());
    }

    [Fact]
    public void TwoDepartedNodes_OneAtATime()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        inventory[3] = Worker(1, NodeState.Retired);
        inventory[4] = Worker(2, NodeState.Retired);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["w1"], plan.Operations.SelectMany(o => o.Nodes).Distinct());
    }

    [Fact]
    public void NodeUnknownToInventory_IsDrainedAndDeleted()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("old-box", _ => KubeNode("old-box"));

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["node old-box: cordon", "node old-box: drain", "node old-box: delete"], plan.Descriptions());
    }

    [Theory]
    [InlineData(NodeState.Unhealthy)]
    [InlineData(NodeState.Unreachable)]
    [InlineData(NodeState.Updating)]
    public void WorkerNotHealthyButNotLeaving_StaysInTheCluster(NodeState state)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("w2", k => k! with { Ready = false });
        inventory[4] = Worker(2, state);

        var plan = Plan(Def, inventory, observed);

        Assert.True(plan.IsConverged, string.Join("; ", plan.Descriptions()));
    }

    [Fact]
    public void NewHealthyMachineNotYetRegistered_IsNotAWorkerWhenUnhealthy()
    {
        List<InventoryNode> inventory = [.. Inventory(), Worker(3, NodeState.Uninitialized)];

        var plan = Plan(Def, inventory, Converged(Def, Inventory()));

        Assert.True(plan.IsConverged);
    }

    [Fact]
    public void CordonedByInstaller_UpToDate_Uncordoned()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("w2", k => k! with { Unschedulable = true, CordonedByInstaller = true });

        Assert.Equal(["node w2: uncordon"], Plan(Def, inventory, observed).Descriptions());
    }

    [Fact]
    public void CordonedByAdministrator_LeftAlone()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithKubeNode("w2", k => k! with { Unschedulable = true });

        Assert.True(Plan(Def, inventory, observed).IsConverged);
    }

    [Fact]
    public void ApiServerNotReady_NoNodeOperations()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory) with { ApiServerReady = false };
        inventory[3] = Worker(1, NodeState.Retired);

        var plan = Plan(Def, inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("API server not ready", StringComparison.Ordinal));
    }
}
