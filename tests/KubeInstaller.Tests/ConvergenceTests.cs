using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

/// <summary>Plan → apply loops with a perfect executor, from several starting points to convergence.</summary>
public class ConvergenceTests
{
    private static readonly ClusterDefinition Def = Definition();

    private static void QuorumKept(ClusterPlan plan, ObservedCluster observed)
    {
        var voting = observed.EtcdMembers.Where(m => !m.IsLearner).ToList();
        Assert.True(voting.Count == 0 || voting.Count(m => m.Healthy) >= ClusterPlanner.Quorum(voting.Count));
    }

    [Fact]
    public void BareMachines_ToConvergedCluster_PhasesInOrder()
    {
        var inventory = Inventory();
        var simulator = new ClusterSimulator(Def, inventory, Bare(inventory));

        simulator.RunToConvergence(check: QuorumKept);

        Assert.Equal(
            [ClusterPhase.EtcdCluster, ClusterPhase.Certificates, ClusterPhase.ControlPlane, ClusterPhase.Kubelets, ClusterPhase.Nodes],
            simulator.Plans.Select(p => p.Phase!.Value));
        Assert.Equal(3, simulator.Observed.EtcdMembers.Count);
        Assert.Equal(["cp1", "cp2", "cp3", "w1", "w2"], simulator.Observed.KubernetesNodes.Keys.Order());
    }

    [Fact]
    public void RetiredControlPlaneNode_ReplacedByNewNode_AddFirstThenRemove()
    {
        List<InventoryNode> inventory = [Cp(1, NodeState.Retired), Cp(2), Cp(3), Cp(4), Worker(1)];
        var observed = Converged(Def, [Cp(1), Cp(2), Cp(3), Worker(1)]).WithNode("cp4", n => n);
        var simulator = new ClusterSimulator(Def, inventory, observed);

        simulator.RunToConvergence(check: QuorumKept);

        var ops = simulator.AllOperations.ToList();
        var add = ops.FindIndex(o => o.Kind == OperationKind.AddEtcdLearner && o.Nodes[0] == "cp4");
        var promote = ops.FindIndex(o => o.Kind == OperationKind.PromoteEtcdMember && o.Nodes[0] == "cp4");
        var remove = ops.FindIndex(o => o.Kind == OperationKind.RemoveEtcdMember && o.Nodes[0] == "cp1");
        Assert.True(add >= 0 && add < promote && promote < remove, string.Join("\n", ops));
        Assert.Equal(["cp2", "cp3", "cp4"], simulator.Observed.EtcdMembers.Select(m => m.Name).Order());
        Assert.Contains(ops, o => o.Kind == OperationKind.DeleteNode && o.Nodes[0] == "cp1");
        Assert.Contains(ops, o => o.Kind == OperationKind.StopUnits && o.Nodes[0] == "cp1");
        Assert.DoesNotContain("cp1", simulator.Observed.KubernetesNodes.Keys);
    }

    [Fact]
    public void SingleMemberCluster_ReplacedThroughTwoMembers()
    {
        var def = Definition(controlPlaneCount: 1);
        List<InventoryNode> inventory = [Cp(1, NodeState.Retiring), Cp(2), Worker(1)];
        var observed = Converged(def, [Cp(1), Worker(1)]).WithNode("cp2", n => n);
        var simulator = new ClusterSimulator(def, inventory, observed);

        simulator.RunToConvergence(check: QuorumKept);

        var kinds = simulator.AllOperations.Where(o => o.Phase == ClusterPhase.EtcdCluster && o.Kind is OperationKind.AddEtcdLearner
            or OperationKind.PromoteEtcdMember or OperationKind.RemoveEtcdMember).Select(o => $"{o.Kind} {o.Nodes[0]}");
        Assert.Equal(["AddEtcdLearner cp2", "PromoteEtcdMember cp2", "RemoveEtcdMember cp1"], kinds);
        Assert.Equal("cp2", Assert.Single(simulator.Observed.EtcdMembers).Name);
    }

    [Fact]
    public void ControlPlaneGrowsFromOneToThree_OneMemberAtATime()
    {
        var inventory = Inventory();
        var observed = Converged(Definition(controlPlaneCount: 1), inventory);
        var simulator = new ClusterSimulator(Def, inventory, observed);

        simulator.RunToConvergence(check: (plan, o) =>
        {
            QuorumKept(plan, o);
            Assert.True(plan.Operations.Count(op => op.Kind == OperationKind.AddEtcdLearner) <= 1);
        });

        Assert.Equal(3, simulator.Observed.EtcdMembers.Count(m => !m.IsLearner));
    }

    [Fact]
    public void ControlPlaneShrinksFromFiveToThree_OneRemovalPerPlan_HighestNamesLeave()
    {
        List<InventoryNode> inventory = [Cp(1), Cp(2), Cp(3), Cp(4), Cp(5), Worker(1)];
        var simulator = new ClusterSimulator(Def, inventory, Converged(Definition(controlPlaneCount: 5), inventory));

        simulator.RunToConvergence(check: (plan, o) =>
        {
            QuorumKept(plan, o);
            Assert.True(plan.Operations.Count(op => op.Kind == OperationKind.RemoveEtcdMember) <= 1);
        });

        Assert.Equal(["cp1", "cp2", "cp3"], simulator.Observed.EtcdMembers.Select(m => m.Name).Order());
        Assert.Equal(["cp4", "cp5"], simulator.AllOperations.Where(o => o.Kind == OperationKind.RemoveEtcdMember).Select(o => o.Nodes[0]));
    }

    [Fact]
    public void UnreachableWorker_DoesNotHoldBackTheRest()
    {
        var inventory = Inventory();
        var simulator = new ClusterSimulator(Def, inventory, Bare(inventory).Unreachable("w2"));

        simulator.RunToConvergence(allowBlockers: true);

        Assert.DoesNotContain(simulator.AllOperations, o => o.Nodes.Contains("w2"));
        Assert.Equal(["cp1", "cp2", "cp3", "w1"], simulator.Observed.KubernetesNodes.Keys.Order());
        var final = Plan(Def, inventory, simulator.Observed);
        Assert.Empty(final.Operations);
        Assert.Contains("w2: unreachable; certificates not checked", final.Blockers);
    }

    [Fact]
    public void Plan_IsDeterministic_WhateverTheInventoryOrder()
    {
        var inventory = Inventory();
        var shuffled = inventory.AsEnumerable().Reverse().ToList();

        var a = Plan(Def, inventory, Bare(inventory));
        var b = Plan(Def, shuffled, Bare(shuffled));

        Assert.Equal(a.Descriptions(), b.Descriptions());
        Assert.Equal(a.Operations.Select(o => o.Parameters.ToArray()), b.Operations.Select(o => o.Parameters.ToArray()));
    }

    [Fact]
    public void RunningPlanOpsAgain_ChangesNothing()
    {
        // idempotence at the plan level: applying a batch twice leaves the same observation as applying it once
        var inventory = Inventory();
        var once = new ClusterSimulator(Def, inventory, Bare(inventory));
        once.RunToConvergence();
        var plan = Plan(Def, inventory, once.Observed);

        Assert.True(plan.IsConverged);
    }
}
