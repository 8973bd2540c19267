using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

/// <summary>A component started before its certificate or kubeconfig was rewritten is restarted to load it.</summary>
public class CredentialReloadTests
{
    private static readonly ClusterDefinition Def = Definition();

    private static ObservedCluster Renewed(ObservedCluster observed, string node, ClusterComponent component, string path, int startedMinutesAgo, int writtenMinutesAgo) =>
        observed
            .WithUnit(node, component, u => u with { ActiveSince = Now.AddMinutes(-startedMinutesAgo) })
            .WithCredential(node, path, c => c with { ModifiedAt = Now.AddMinutes(-writtenMinutesAgo) });

    [Theory]
    [InlineData("cp2", ClusterComponent.Etcd, "/etc/nekko/pki/etcd/peer.crt", ClusterPhase.EtcdCluster)]
    [InlineData("cp1", ClusterComponent.KubeApiserver, "/etc/nekko/pki/apiserver.crt", ClusterPhase.ControlPlane)]
    [InlineData("cp3", ClusterComponent.KubeScheduler, "/etc/nekko/kubeconfig/scheduler.conf", ClusterPhase.ControlPlane)]
    [InlineData("w1", ClusterComponent.Kubelet, "/etc/nekko/kubeconfig/kubelet.conf", ClusterPhase.Kubelets)]
    [InlineData("w2", ClusterComponent.KubeProxy, "/etc/nekko/kubeconfig/kube-proxy.conf", ClusterPhase.Kubelets)]
    public void CredentialNewerThanProcess_ComponentRestarted(string node, ClusterComponent component, string path, ClusterPhase phase)
    {
        var inventory = Inventory();
        var observed = Renewed(Converged(Def, inventory), node, component, path, startedMinutesAgo: 60, writtenMinutesAgo: 1);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(phase, plan.Phase);
        Assert.Equal([$"{node}: restart {component.UnitName()}", $"{node}: wait for {component.ToWire()} healthy"], plan.Descriptions());
    }

    [Fact]
    public void CredentialOlderThanProcess_NothingToDo()
    {
        var inventory = Inventory();
        var observed = Renewed(Converged(Def, inventory), "w1", ClusterComponent.Kubelet, "/etc/nekko/pki/kubelet.crt", startedMinutesAgo: 1, writtenMinutesAgo: 60);

        Assert.True(Plan(Def, inventory, observed).IsConverged);
    }

    [Fact]
    public void RenewedOnEveryWorker_RestartedOneAtATime()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        foreach (var w in new[] { "w1", "w2" })
        {
            observed = Renewed(observed, w, ClusterComponent.Kubelet, "/etc/nekko/pki/kubelet.crt", 60, 1);
        }

        var simulator = new ClusterSimulator(Def, inventory, observed);
        simulator.RunToConvergence();

        Assert.Equal(["w1", "w2"], simulator.Plans.Select(p => Assert.Single(p.Operations.SelectMany(o => o.Nodes).Distinct())));
    }

    [Fact]
    public void ControlPlaneReplaced_KubeletsReloadTheirNewKubeconfig()
    {
        // kubeconfigs point at the first control-plane node; when it retires they are reissued and kubelets restarted
        List<InventoryNode> inventory = [Cp(1, NodeState.Retired), Cp(2), Cp(3), Cp(4), Worker(1)];
        var observed = Converged(Def, [Cp(1), Cp(2), Cp(3), Worker(1)]).WithNode("cp4", n => n);
        var simulator = new ClusterSimulator(Def, inventory, observed);

        simulator.RunToConvergence();

        var ops = simulator.AllOperations.Select(o => o.Description).ToList();
        var reissue = ops.FindIndex(d => d.StartsWith("w1: issue kubelet kubeconfig", StringComparison.Ordinal));
        var restart = ops.FindLastIndex(d => d == "w1: restart kubelet.service");
        Assert.True(reissue >= 0 && restart > reissue, string.Join("\n", ops));
        Assert.Contains("server changed", ops[reissue], StringComparison.Ordinal);
    }
}
