using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

public class UpgradeTests
{
    private static readonly ClusterDefinition Old = Definition();
    private static readonly ClusterDefinition New = Old with { KubernetesVersion = K8sNext, EtcdVersion = EtcdNext };

    private static ObservedCluster Running(IReadOnlyList<InventoryNode> inventory, EtcdBackup? backup = null) =>
        Converged(Old, inventory) with { LastEtcdBackup = backup };

    private static readonly EtcdBackup Backup = new(K8sNext, EtcdNext, Now.AddMinutes(-5));

    [Fact]
    public void VersionChange_NoBackup_BackupFirst()
    {
        var inventory = Inventory();

        var plan = Plan(New, inventory, Running(inventory));

        Assert.Equal(ClusterPhase.Upgrade, plan.Phase);
        Assert.Equal(["etcd: back up before upgrading to kubernetes 1.32.0, etcd 3.5.17"], plan.Descriptions());
    }

    [Fact]
    public void VersionChange_BackupForAnotherTarget_BackupAgain()
    {
        var inventory = Inventory();

        var plan = Plan(New, inventory, Running(inventory, new EtcdBackup(K8s, Etcd, Now.AddDays(-30))));

        Assert.Equal([OperationKind.BackupEtcd], plan.Kinds());
    }

    [Fact]
    public void AfterBackup_FirstEtcdMemberAlone()
    {
        var inventory = Inventory();

        var plan = Plan(New, inventory, Running(inventory, Backup));

        Assert.Equal(
            ["cp1: write binary etcd 3.5.17 from asset etcd-3.5.17-amd64", "cp1: restart etcd.service", "cp1: wait for etcd healthy"],
            plan.Descriptions());
    }

    [Fact]
    public void EtcdUpgraded_ControlPlaneNextOneNode()
    {
        var inventory = Inventory();
        var observed = Running(inventory, Backup).RunningVersion(ClusterComponent.Etcd, EtcdNext);

        var plan = Plan(New, inventory, observed);

        Assert.Equal(["cp1"], plan.Operations.SelectMany(o => o.Nodes).Distinct());
        Assert.Equal(
            [
                "cp1: write binary kube-apiserver 1.32.0 from asset kube-apiserver-1.32.0-amd64",
                "cp1: write binary kube-controller-manager 1.32.0 from asset kube-controller-manager-1.32.0-amd64",
                "cp1: write binary kube-scheduler 1.32.0 from asset kube-scheduler-1.32.0-amd64",
                "cp1: restart kube-apiserver.service",
                "cp1: restart kube-controller-manager.service",
                "cp1: restart kube-scheduler.service",
                "cp1: wait for kube-apiserver healthy",
                "cp1: wait for kube-controller-manager healthy",
                "cp1: wait for kube-scheduler healthy",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void ControlPlaneUpgraded_WorkerCordonDrainUpgradeUncordon()
    {
        var inventory = Inventory();
        var observed = Running(inventory, Backup).RunningVersion(ClusterComponent.Etcd, EtcdNext);
        foreach (var c in ClusterComponents.ControlPlane)
        {
            observed = observed.RunningVersion(c, K8sNext);
        }

        foreach (var cp in new[] { "cp1", "cp2", "cp3" })
        {
            observed = observed.WithVersion(cp, ClusterComponent.Kubelet, K8sNext).WithVersion(cp, ClusterComponent.KubeProxy, K8sNext)
                .WithFile(cp, ClusterComponent.Kubelet.BinaryPath(), Pin(ClusterComponent.Kubelet, K8sNext).Sha256)
                .WithFile(cp, ClusterComponent.KubeProxy.BinaryPath(), Pin(ClusterComponent.KubeProxy, K8sNext).Sha256);
        }

        var plan = Plan(New, inventory, observed);

        Assert.Equal(
            [
                "node w1: cordon",
                "node w1: drain",
                "w1: write binary kubelet 1.32.0 from asset kubelet-1.32.0-amd64",
                "w1: write binary kube-proxy 1.32.0 from asset kube-proxy-1.32.0-amd64",
                "w1: restart kubelet.service",
                "w1: restart kube-proxy.service",
                "w1: wait for kubelet healthy",
                "w1: wait for kube-proxy healthy",
                "node w1: uncordon",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void WorkerCordonedByAdministrator_DrainedButLeftCordoned()
    {
        var inventory = Inventory();
        var def = Old with { KubernetesVersion = K8sNext };
        var observed = Converged(def, inventory).WithVersion("w2", ClusterComponent.Kubelet, K8s)
            .WithKubeNode("w2", k => k! with { Unschedulable = true }) with
        { LastEtcdBackup = new(K8sNext, Etcd, Now) };

        var plan = Plan(def, inventory, observed);

        Assert.Equal(["node w2: drain", "w2: restart kubelet.service", "w2: wait for kubelet healthy"], plan.Descriptions());
    }

    [Fact]
    public void EtcdMemberUnhealthy_NoUpgradeStep()
    {
        var inventory = Inventory();
        var observed = Running(inventory, Backup).WithMember("cp2", m => m with { Healthy = false });

        var plan = Plan(New, inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("upgrade: waiting; etcd member(s) unhealthy: cp2", StringComparison.Ordinal));
    }

    [Fact]
    public void ControlPlaneStep_HeldBackWhileAnotherApiServerIsDown()
    {
        var inventory = Inventory();
        var observed = Running(inventory, Backup).RunningVersion(ClusterComponent.Etcd, EtcdNext)
            .WithUnit("cp3", ClusterComponent.KubeApiserver, u => u with { Healthy = false });

        var plan = Plan(New, inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("upgrade: cp1 waits; control plane not healthy on cp3", StringComparison.Ordinal));
    }

    [Fact]
    public void FullUpgrade_BackupThenEtcdThenControlPlaneThenKubelets_OneNodeAtATime()
    {
        var inventory = Inventory();
        var simulator = new ClusterSimulator(New, inventory, Running(inventory));

        simulator.RunToConvergence(check: (plan, observed) =>
        {
            var voting = observed.EtcdMembers.Where(m => !m.IsLearner).ToList();
            Assert.True(voting.Count(m => m.Healthy) >= ClusterPlanner.Quorum(voting.Count));
            Assert.True(plan.Operations.SelectMany(o => o.Nodes).Distinct().Count() <= 1, string.Join("; ", plan.Descriptions()));
        });

        Assert.All(simulator.Plans, p => Assert.Equal(ClusterPhase.Upgrade, p.Phase));
        var steps = simulator.Plans.Select(p => p.Operations[0].Kind == OperationKind.BackupEtcd
            ? "backup"
            : $"{p.Operations.First(o => o.Kind == OperationKind.RestartUnit)[OperationParameters.Component]}@{p.Operations.First(o => o.Nodes.Length > 0).Nodes[0]}").ToList();
        Assert.Equal(
            [
                "backup",
                "etcd@cp1", "etcd@cp2", "etcd@cp3",
                "kube-apiserver@cp1", "kube-apiserver@cp2", "kube-apiserver@cp3",
                "kubelet@cp1", "kubelet@cp2", "kubelet@cp3", "kubelet@w1", "kubelet@w2",
            ],
            steps);
        Assert.All(simulator.Plans.Skip(7), p =>
        {
            Assert.Equal(OperationKind.CordonNode, p.Operations[0].Kind);
            Assert.Equal(OperationKind.DrainNode, p.Operations[1].Kind);
            Assert.Equal(OperationKind.UncordonNode, p.Operations[^1].Kind);
        });
    }

    [Fact]
    public void KubernetesOnlyUpgrade_BackupStillTakenAndEtcdUntouched()
    {
        var inventory = Inventory();
        var def = Old with { KubernetesVersion = K8sNext };
        var simulator = new ClusterSimulator(def, inventory, Running(inventory));

        simulator.RunToConvergence();

        Assert.Equal(OperationKind.BackupEtcd, simulator.Plans[0].Operations[0].Kind);
        Assert.DoesNotContain(simulator.AllOperations, o => o[OperationParameters.Component] == "etcd");
    }
}
