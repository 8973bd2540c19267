using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

public class EtcdPhaseTests
{
    private static readonly ClusterDefinition Def = Definition();

    private static List<InventoryNode> WithSpare(NodeState cp1State) =>
        [Cp(1, cp1State), Cp(2), Cp(3), Cp(4), Worker(1), Worker(2)];

    [Fact]
    public void Bootstrap_SingleNode_ExactOperations()
    {
        var def = Definition(controlPlaneCount: 1);
        List<InventoryNode> inventory = [Cp(1)];

        var plan = Plan(def, inventory, Bare(inventory));

        Assert.Equal(ClusterPhase.EtcdCluster, plan.Phase);
        Assert.Equal(
            [
                "cp1: issue etcd-server certificate /etc/nekko/pki/etcd/server.crt (ca kubernetes-etcd, missing)",
                "cp1: issue etcd-peer certificate /etc/nekko/pki/etcd/peer.crt (ca kubernetes-etcd, missing)",
                "cp1: write binary etcd 3.5.16 from asset etcd-3.5.16-amd64",
                "cp1: write etcd initial cluster (new) cp1=https://10.0.0.11:2380",
                "cp1: write unit etcd.service",
                "cp1: start etcd.service",
                "cp1: wait for etcd healthy",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void Bootstrap_ThreeNodes_AllInitialMembersAtOnceWithStateNew()
    {
        var inventory = Inventory();

        var plan = Plan(Def, inventory, Bare(inventory));

        var initial = plan.Operations.Where(o => o.Kind == OperationKind.WriteEtcdInitialCluster).ToList();
        Assert.Equal(["cp1", "cp2", "cp3"], initial.Select(o => o.Nodes[0]));
        Assert.All(initial, o =>
        {
            Assert.Equal("new", o[OperationParameters.InitialClusterState]);
            Assert.Equal("cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380", o[OperationParameters.InitialCluster]);
        });
        Assert.Equal(3, plan.Operations.Count(o => o.Kind == OperationKind.StartUnit));
        Assert.Equal(OperationKind.WaitHealthy, plan.Operations[^1].Kind);
        Assert.DoesNotContain(plan.Operations, o => o.Nodes.Contains("w1"));
    }

    [Fact]
    public void Bootstrap_TakesControlPlaneCountHealthyCandidatesByName()
    {
        List<InventoryNode> inventory = [Cp(1, NodeState.Unhealthy), Cp(2), Cp(3, NodeState.Retiring), Cp(4), Cp(5), Cp(6)];

        var plan = Plan(Def, inventory, Bare(inventory));

        Assert.Equal(["cp2", "cp4", "cp5"], plan.Operations.Where(o => o.Kind == OperationKind.StartUnit).Select(o => o.Nodes[0]));
    }

    [Fact]
    public void Bootstrap_WaitsForEveryInitialMemberToBeReachable()
    {
        var inventory = Inventory();

        var plan = Plan(Def, inventory, Bare(inventory).Unreachable("cp2"));

        Assert.DoesNotContain(plan.Operations, o => o.Phase == ClusterPhase.EtcdCluster);
        Assert.Contains(plan.Blockers, b => b.Contains("bootstrap waits for cp2", StringComparison.Ordinal));
    }

    [Fact]
    public void NoMemberList_ButDataOnNodes_StartsStoppedMembersInsteadOfBootstrapping()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory) with { EtcdMembers = [] };
        observed = observed.WithUnit("cp2", ClusterComponent.Etcd, u => u with { State = UnitState.Failed, Healthy = false });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["cp2: restart etcd.service", "cp2: wait for etcd healthy"], plan.Descriptions());
    }

    [Fact]
    public void InterruptedBootstrap_RemainingMembersJoinTheSameInitialCluster()
    {
        var inventory = Inventory();
        var observed = Bare(inventory).WithNode("cp1", _ => Converged(Def, inventory).Nodes["CP1"]);

        var plan = Plan(Def, inventory, observed);

        var initial = plan.Operations.Where(o => o.Kind == OperationKind.WriteEtcdInitialCluster).ToList();
        Assert.Equal(["cp2", "cp3"], initial.Select(o => o.Nodes[0]));
        Assert.All(initial, o => Assert.Equal("new", o[OperationParameters.InitialClusterState]));
        Assert.Equal(["cp2: wait for etcd healthy", "cp3: wait for etcd healthy"],
            plan.Descriptions().Where(d => d.Contains("wait", StringComparison.Ordinal)));
        Assert.DoesNotContain(plan.Operations, o => o.Nodes[0] == "cp1" && o.Kind != OperationKind.WaitHealthy);
    }

    [Fact]
    public void NoMemberList_DataOnAMachineOutsideTheControlPlane_NeverBootstraps()
    {
        var inventory = Inventory();
        var observed = Bare(inventory).WithNode("w1", n => n with { EtcdDataPresent = true });

        var plan = Plan(Def, inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("w1 hold etcd data", StringComparison.Ordinal));
    }

    [Fact]
    public void NoMemberList_DataPresent_AllRunning_NeverBootstraps()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory) with { EtcdMembers = [] };

        var plan = Plan(Def, inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.WriteEtcdInitialCluster);
        Assert.Contains(plan.Blockers, b => b.Contains("not bootstrapping", StringComparison.Ordinal));
    }

    [Fact]
    public void NewControlPlaneNode_AddedAsLearnerThenStarted_ExactOperations()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithMember("cp3", _ => null).WithNode("cp3", n => new ObservedNode(n.Serial));

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(
            [
                "cp3: issue etcd-server certificate /etc/nekko/pki/etcd/server.crt (ca kubernetes-etcd, missing)",
                "cp3: issue etcd-peer certificate /etc/nekko/pki/etcd/peer.crt (ca kubernetes-etcd, missing)",
                "cp3: write binary etcd 3.5.16 from asset etcd-3.5.16-amd64",
                "etcd: add learner cp3 https://10.0.0.13:2380",
                "cp3: write etcd initial cluster (existing) cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380",
                "cp3: write unit etcd.service",
                "cp3: start etcd.service",
                "cp3: wait for etcd healthy",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void AddedMemberNeverStarted_IsStartedWithExistingState()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory)
            .WithMember("cp3", m => m with { Name = "", IsLearner = true, Healthy = false })
            .WithUnit("cp3", ClusterComponent.Etcd, u => u with { State = UnitState.Inactive, Healthy = false })
            .WithNode("cp3", n => n with { EtcdDataPresent = false });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(
            [
                "cp3: write etcd initial cluster (existing) cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380",
                "cp3: start etcd.service",
                "cp3: wait for etcd healthy",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void HealthyLearner_IsPromoted()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithMember("cp3", m => m with { IsLearner = true });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["etcd: promote learner cp3 (id 3)"], plan.Descriptions());
    }

    [Fact]
    public void LearnerNotCaughtUp_IsNotPromoted_AndNoOtherMemberIsAdded()
    {
        var inventory = WithSpare(NodeState.Healthy);
        var def = Definition(controlPlaneCount: 5);
        List<InventoryNode> five = [.. inventory, Cp(5)];
        var observed = Converged(Definition(controlPlaneCount: 4), inventory)
            .WithMember("cp4", m => m with { IsLearner = true, Healthy = false });
        observed = observed.WithNode("cp5", n => n);

        var plan = Plan(def, five, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind is OperationKind.PromoteEtcdMember or OperationKind.AddEtcdLearner);
        Assert.Contains(plan.Blockers, b => b.Contains("learner cp4 has not caught up", StringComparison.Ordinal));
    }

    [Fact]
    public void RetiredControlPlaneNode_WithHealthySpare_ReplacementAddedFirst()
    {
        var observed = Converged(Def, Inventory());
        var inventory = WithSpare(NodeState.Retired);

        var plan = Plan(Def, inventory, observed.WithNode("cp4", n => n));

        Assert.Equal(ClusterPhase.EtcdCluster, plan.Phase);
        Assert.Contains(plan.Operations, o => o.Kind == OperationKind.AddEtcdLearner && o.Nodes[0] == "cp4");
        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
    }

    [Fact]
    public void RetiredControlPlaneNode_Dead_WithReachableSpare_DeadMemberRemovedBeforeTheSpareIsAdded()
    {
        // etcd refuses "member add" (even --learner) while a voter is down: "etcdserver: unhealthy cluster"
        var observed = Converged(Def, Inventory()).WithMember("cp1", m => m with { Healthy = false }).Unreachable("cp1");

        var plan = Plan(Def, WithSpare(NodeState.Retired), observed.WithNode("cp4", n => n));

        Assert.Equal(["etcd: remove member cp1 (id 1)"], plan.Descriptions());
    }

    [Fact]
    public void RetiredControlPlaneNode_Dead_SpareUnreachable_IsKept()
    {
        var observed = Converged(Def, Inventory()).WithMember("cp1", m => m with { Healthy = false }).Unreachable("cp1");

        var plan = Plan(Def, WithSpare(NodeState.Retired), observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
    }

    [Fact]
    public void RetiredControlPlaneNode_Dead_AnotherMemberUnhealthy_IsKept()
    {
        var def5 = Definition(controlPlaneCount: 5);
        List<InventoryNode> five = [Cp(1), Cp(2), Cp(3), Cp(4), Cp(5)];
        var observed = Converged(def5, five)
            .WithMember("cp1", m => m with { Healthy = false }).Unreachable("cp1")
            .WithMember("cp2", m => m with { Healthy = false }).Unreachable("cp2")
            .WithNode("cp6", n => n);

        var plan = Plan(def5, [Cp(1, NodeState.Retired), Cp(2), Cp(3), Cp(4), Cp(5), Cp(6)], observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
    }

    [Fact]
    public void UnreachableControlPlaneNode_NotRetired_KeepsItsMember()
    {
        var observed = Converged(Def, Inventory()).WithMember("cp1", m => m with { Healthy = false }).Unreachable("cp1");

        var plan = Plan(Def, WithSpare(NodeState.Unreachable), observed.WithNode("cp4", n => n));

        Assert.DoesNotContain(plan.Operations, o => o.Kind is OperationKind.RemoveEtcdMember or OperationKind.AddEtcdLearner);
    }

    [Fact]
    public void RetiredControlPlaneNode_ReplacementIsLearner_PromotedBeforeAnyRemoval()
    {
        var inventory = WithSpare(NodeState.Healthy);
        var observed = Converged(Definition(controlPlaneCount: 4), inventory).WithMember("cp4", m => m with { IsLearner = true });

        var plan = Plan(Def, WithSpare(NodeState.Retired), observed);

        Assert.Equal(["etcd: promote learner cp4 (id 4)"], plan.Descriptions());
    }

    [Theory]
    [InlineData(NodeState.Retired, true)]
    [InlineData(NodeState.Retiring, true)]
    [InlineData(NodeState.Retired, false)] // the retired machine is dead: 3 healthy of 4 still commit
    public void RetiredControlPlaneNode_ReplacementVotes_OldMemberRemoved(NodeState state, bool oldMemberHealthy)
    {
        var observed = Converged(Definition(controlPlaneCount: 4), WithSpare(NodeState.Healthy))
            .WithMember("cp1", m => m with { Healthy = oldMemberHealthy });

        var plan = Plan(Def, WithSpare(state), observed);

        Assert.Equal(["etcd: remove member cp1 (id 1)"], plan.Descriptions());
    }

    [Fact]
    public void RetiredControlPlaneNode_NoSpare_IsKept()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        inventory[0] = Cp(1, NodeState.Retired);

        var plan = Plan(Def, inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
        Assert.Contains(plan.Blockers, b => b.Contains("keeping member cp1: no replacement", StringComparison.Ordinal));
    }

    [Fact]
    public void ThreeMembers_OneOtherUnhealthy_NoRemoval()
    {
        // control plane shrunk to 2: cp1 leaves, but cp3 is unhealthy, so removing cp1 would leave no margin
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithMember("cp3", m => m with { Healthy = false }).Unreachable("cp3");
        inventory[0] = Cp(1, NodeState.Retiring);

        var plan = Plan(Definition(controlPlaneCount: 2), inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
        Assert.Contains(plan.Blockers, b => b.StartsWith("etcd: keeping member cp1", StringComparison.Ordinal));
    }

    [Fact]
    public void FourMembers_ReplacementReady_AnotherMemberUnhealthy_NoRemoval()
    {
        var observed = Converged(Definition(controlPlaneCount: 4), WithSpare(NodeState.Healthy))
            .WithMember("cp2", m => m with { Healthy = false })
            .Unreachable("cp2");

        var plan = Plan(Def, WithSpare(NodeState.Retired), observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
        Assert.Contains(plan.Blockers, b => b.Contains("keeping member cp1", StringComparison.Ordinal) && b.Contains("cp2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(NodeState.Retiring)]
    [InlineData(NodeState.Retired)]
    public void SingleMember_CannotRemoveItself(NodeState state)
    {
        var def = Definition(controlPlaneCount: 1);
        List<InventoryNode> inventory = [Cp(1), Worker(1)];
        var observed = Converged(def, inventory);
        inventory[0] = Cp(1, state);

        var plan = Plan(def, inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
        Assert.Contains(plan.Blockers, b => b.StartsWith("etcd: keeping member cp1", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoMembers_DepartedOneDead_CannotCommitRemoval()
    {
        var def = Definition(controlPlaneCount: 1);
        List<InventoryNode> inventory = [Cp(1), Cp(2), Worker(1)];
        var observed = Converged(Definition(controlPlaneCount: 2), inventory).WithMember("cp1", m => m with { Healthy = false });
        inventory[0] = Cp(1, NodeState.Retired);

        var plan = Plan(def, inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.RemoveEtcdMember);
        Assert.Contains(plan.Blockers, b => b.Contains("cannot commit", StringComparison.Ordinal));
    }

    [Fact]
    public void DepartedLearner_RemovedAtOnce()
    {
        var inventory = WithSpare(NodeState.Healthy);
        var observed = Converged(Def, Inventory()).WithNode("cp4", n => n);
        observed = observed with
        {
            EtcdMembers = [.. observed.EtcdMembers, new EtcdMember(9, "", "https://10.0.0.14:2380", true, false)],
        };
        inventory[3] = Cp(4, NodeState.Retiring);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["etcd: remove member cp4 (id 9)"], plan.Descriptions());
    }

    [Fact]
    public void TwoDepartedMembers_RemovedOneAtATime_FirstByName()
    {
        var def5 = Definition(controlPlaneCount: 5);
        List<InventoryNode> inventory = [Cp(1), Cp(2), Cp(3), Cp(4), Cp(5)];
        var observed = Converged(def5, inventory);

        var plan = Plan(Def, [Cp(1), Cp(2), Cp(3), Cp(4, NodeState.Retired), Cp(5, NodeState.Retired)], observed);

        Assert.Equal(["etcd: remove member cp4 (id 4)"], plan.Descriptions());
    }

    [Fact]
    public void FailedMember_IsRepairedAlone()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory)
            .WithUnit("cp2", ClusterComponent.Etcd, u => u with { State = UnitState.Failed, Healthy = false })
            .WithMember("cp2", m => m with { Healthy = false })
            .WithUnit("cp3", ClusterComponent.Etcd, u => u with { State = UnitState.Inactive, Healthy = false })
            .WithMember("cp3", m => m with { Healthy = false });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["cp2: restart etcd.service", "cp2: wait for etcd healthy"], plan.Descriptions());
    }

    [Fact]
    public void ConfigurationChange_RestartsOneMember()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        var changed = Def with { ExtraFlags = new Dictionary<ClusterComponent, IReadOnlyList<string>> { [ClusterComponent.Etcd] = ["--quota-backend-bytes=8589934592"] } };

        var plan = Plan(changed, inventory, observed);

        Assert.Equal(["cp1: write unit etcd.service", "cp1: restart etcd.service", "cp1: wait for etcd healthy"], plan.Descriptions());
        Assert.Contains("--quota-backend-bytes=8589934592", plan.Operations[0][OperationParameters.Content], StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigurationChange_HeldBackWhileAnotherMemberIsUnhealthy()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithMember("cp3", m => m with { Healthy = false });
        var changed = Def with { ExtraFlags = new Dictionary<ClusterComponent, IReadOnlyList<string>> { [ClusterComponent.Etcd] = ["--snapshot-count=5000"] } };

        var plan = Plan(changed, inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Phase == ClusterPhase.EtcdCluster);
        Assert.Contains(plan.Blockers, b => b.Contains("etcd restart held back", StringComparison.Ordinal));
    }

    [Fact]
    public void EtcdBinaryHashMismatch_SameVersion_WritesAndRestarts()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithFile("cp2", ClusterComponent.Etcd.BinaryPath(), Hash("tampered"));

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(
            ["cp2: write binary etcd 3.5.16 from asset etcd-3.5.16-amd64", "cp2: restart etcd.service", "cp2: wait for etcd healthy"],
            plan.Descriptions());
    }

    [Fact]
    public void NoQuorum_NoMemberIsAdded()
    {
        var inventory = WithSpare(NodeState.Healthy);
        var observed = Converged(Def, Inventory())
            .WithMember("cp2", m => m with { Healthy = false }).Unreachable("cp2")
            .WithMember("cp3", m => m with { Healthy = false }).Unreachable("cp3")
            .WithNode("cp4", n => n);

        var plan = Plan(Definition(controlPlaneCount: 4), inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Kind == OperationKind.AddEtcdLearner);
        Assert.Contains(plan.Blockers, b => b.Contains("no quorum", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    public void Quorum_IsMajority(int voters, int quorum) => Assert.Equal(quorum, ClusterPlanner.Quorum(voters));
}
