using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

/// <summary>The control-plane and kubelet phases.</summary>
public class ComponentPhaseTests
{
    private static readonly ClusterDefinition Def = Definition();

    private static ClusterDefinition WithFlag(ClusterComponent component, string flag) =>
        Def with { ExtraFlags = new Dictionary<ClusterComponent, IReadOnlyList<string>> { [component] = [flag] } };

    [Fact]
    public void ConvergedCluster_EmptyPlan()
    {
        var inventory = Inventory();

        var plan = Plan(Def, inventory, Converged(Def, inventory));

        Assert.True(plan.IsConverged, string.Join("; ", plan.Descriptions().Concat(plan.Blockers)));
        Assert.Null(plan.Phase);
    }

    [Fact]
    public void ConvergedCluster_ControlPlaneWithoutKubelet_EmptyPlan()
    {
        var def = Def with { ControlPlaneRunsKubelet = false };
        var inventory = Inventory();

        var plan = Plan(def, inventory, Converged(def, inventory));

        Assert.True(plan.IsConverged, string.Join("; ", plan.Descriptions().Concat(plan.Blockers)));
    }

    [Theory]
    [InlineData(ClusterComponent.KubeApiserver, "cp2", ClusterPhase.ControlPlane)]
    [InlineData(ClusterComponent.KubeScheduler, "cp3", ClusterPhase.ControlPlane)]
    [InlineData(ClusterComponent.Kubelet, "w1", ClusterPhase.Kubelets)]
    [InlineData(ClusterComponent.KubeProxy, "cp1", ClusterPhase.Kubelets)]
    [InlineData(ClusterComponent.ContainerRuntime, "w2", ClusterPhase.Kubelets)]
    public void BinaryHashMismatch_WritesBinaryAndRestarts(ClusterComponent component, string node, ClusterPhase phase)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithFile(node, component.BinaryPath(), Hash("corrupt"));
        var pin = Def.PinOf(component)!;

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(phase, plan.Phase);
        Assert.Equal(
            [
                $"{node}: write binary {component.ToWire()} {pin.Version} from asset {pin.AssetName}",
                $"{node}: restart {component.UnitName()}",
                $"{node}: wait for {component.ToWire()} healthy",
            ],
            plan.Descriptions());
        Assert.Equal(pin.Sha256, plan.Operations[0][OperationParameters.Sha256]);
    }

    [Fact]
    public void MissingUnitFile_IsWrittenAndStarted()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithNode("cp2", n => n with
        {
            Units = n.Units.Where(u => u.Key != "kube-controller-manager.service").ToDictionary(),
        });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(
            ["cp2: write unit kube-controller-manager.service", "cp2: start kube-controller-manager.service", "cp2: wait for kube-controller-manager healthy"],
            plan.Descriptions());
    }

    [Fact]
    public void FreshControlPlaneNodes_InstalledTogether()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory);
        foreach (var cp in new[] { "cp1", "cp2", "cp3" })
        {
            observed = observed.WithNode(cp, n => n with
            {
                Units = n.Units.Where(u => u.Key == "etcd.service").ToDictionary(),
                Files = n.Files.Where(f => !f.Key.StartsWith("/opt/nekko/bin/kube-", StringComparison.Ordinal)).ToDictionary(),
            });
        }

        var plan = Plan(Def, inventory, observed with { ApiServerReady = false });

        Assert.Equal(ClusterPhase.ControlPlane, plan.Phase);
        Assert.Equal(["cp1", "cp2", "cp3"], plan.Operations.Select(o => o.Nodes[0]).Distinct());
        Assert.Equal(9, plan.Operations.Count(o => o.Kind == OperationKind.StartUnit));
    }

    [Fact]
    public void ConfigurationChange_ControlPlane_FirstNodeOnly()
    {
        var inventory = Inventory();

        var plan = Plan(WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7"), inventory, Converged(Def, inventory));

        Assert.Equal(["cp1: write unit kube-apiserver.service", "cp1: restart kube-apiserver.service", "cp1: wait for kube-apiserver healthy"], plan.Descriptions());
    }

    [Fact]
    public void ConfigurationChange_ControlPlane_RollsOneNodeAtATime()
    {
        var inventory = Inventory();
        var def = WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7");
        var simulator = new ClusterSimulator(def, inventory, Converged(Def, inventory));

        var batches = simulator.RunToConvergence();

        Assert.Equal(3, batches);
        Assert.Equal(["cp1", "cp2", "cp3"], simulator.Plans.Select(p => Assert.Single(p.Operations.SelectMany(o => o.Nodes).Distinct())));
    }

    [Fact]
    public void ConfigurationChange_HeldBackWhileAnotherControlPlaneNodeIsDown()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).Unreachable("cp2");

        var plan = Plan(WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7"), inventory, observed);

        Assert.DoesNotContain(plan.Operations, o => o.Phase == ClusterPhase.ControlPlane);
        Assert.Contains(plan.Blockers, b => b.Contains("control plane not healthy on cp2", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationChange_HeldBackWhileAnotherSchedulerIsUnhealthy()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithUnit("cp3", ClusterComponent.KubeScheduler, u => u with { Healthy = false });

        var plan = Plan(WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7"), inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("control plane not healthy on cp3", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationChange_UnhealthyNodeIsRestartedFirst_AsRepair()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithUnit("cp2", ClusterComponent.KubeApiserver, u => u with { Healthy = false });

        var plan = Plan(WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7"), inventory, observed);

        Assert.Equal(["cp2: write unit kube-apiserver.service", "cp2: restart kube-apiserver.service", "cp2: wait for kube-apiserver healthy"], plan.Descriptions());
    }

    [Fact]
    public void ConfigurationChange_HeldBackWhileAnEtcdMemberIsUnhealthy()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithMember("cp3", m => m with { Healthy = false });

        var plan = Plan(WithFlag(ClusterComponent.KubeScheduler, "--v=2"), inventory, observed);

        Assert.Empty(plan.Operations);
        Assert.Contains(plan.Blockers, b => b.Contains("etcd member(s) unhealthy: cp3", StringComparison.Ordinal));
    }

    [Fact]
    public void BrokenComponent_RepairedBeforeAnyRollingRestart()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithUnit("cp2", ClusterComponent.KubeScheduler, u => u with { State = UnitState.Failed, Healthy = false });

        var plan = Plan(WithFlag(ClusterComponent.KubeApiserver, "--audit-log-maxage=7"), inventory, observed);

        Assert.Equal(["cp2: restart kube-scheduler.service", "cp2: wait for kube-scheduler healthy"], plan.Descriptions());
    }

    [Fact]
    public void EtcdMembershipChange_RewritesApiServerEtcdServers()
    {
        var inventory = Inventory();
        var observed = Converged(Definition(controlPlaneCount: 2), inventory);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(ClusterPhase.EtcdCluster, plan.Phase);
        var unit = NodeConfiguration.RenderUnit(ClusterComponent.KubeApiserver, inventory[0], Def, new ClusterTopology(Def, inventory, Converged(Def, inventory)));
        Assert.Contains("--etcd-servers=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379", unit, StringComparison.Ordinal);
    }

    [Fact]
    public void NewWorker_GetsRuntimeKubeletAndProxy_ExactOperations()
    {
        List<InventoryNode> inventory = [.. Inventory(), Worker(3)];
        var observed = Converged(Def, inventory).WithNode("w3", n => n with { Units = new Dictionary<string, ObservedUnit>(), Files = new Dictionary<string, string>() });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(
            [
                "w3: write binary containerd 1.7.22 from asset containerd-1.7.22-amd64",
                "w3: write binary kubelet 1.31.2 from asset kubelet-1.31.2-amd64",
                "w3: write binary kube-proxy 1.31.2 from asset kube-proxy-1.31.2-amd64",
                "w3: write unit containerd.service",
                "w3: write unit kubelet.service",
                "w3: write unit kube-proxy.service",
                "w3: start containerd.service",
                "w3: start kubelet.service",
                "w3: start kube-proxy.service",
                "w3: wait for containerd healthy",
                "w3: wait for kubelet healthy",
                "w3: wait for kube-proxy healthy",
            ],
            plan.Descriptions());
    }

    [Fact]
    public void KubeletConfigurationChange_RollsOneNodeAtATime_InNameOrder()
    {
        var inventory = Inventory();
        var simulator = new ClusterSimulator(WithFlag(ClusterComponent.Kubelet, "--max-pods=200"), inventory, Converged(Def, inventory));

        simulator.RunToConvergence();

        Assert.Equal(["cp1", "cp2", "cp3", "w1", "w2"], simulator.Plans.Select(p => Assert.Single(p.Operations.SelectMany(o => o.Nodes).Distinct())));
        Assert.All(simulator.Plans, p => Assert.Equal(ClusterPhase.Kubelets, p.Phase));
    }

    [Fact]
    public void ControlPlaneWithoutKubelet_GetsNoKubeletOperations()
    {
        var def = Def with { ControlPlaneRunsKubelet = false };
        var inventory = Inventory();
        var simulator = new ClusterSimulator(def, inventory, Bare(inventory));

        simulator.RunToConvergence();

        Assert.DoesNotContain(simulator.AllOperations, o => o[OperationParameters.Component] == "kubelet" && o.Nodes[0].StartsWith("cp", StringComparison.Ordinal));
    }

    [Fact]
    public void UnitFile_CarriesDefinitionValues()
    {
        var inventory = Inventory();
        var topology = new ClusterTopology(Def, inventory, Converged(Def, inventory));

        var kubelet = NodeConfiguration.RenderUnit(ClusterComponent.Kubelet, inventory[3], Def, topology);

        Assert.Contains("--cluster-dns=10.96.0.10", kubelet, StringComparison.Ordinal);
        Assert.Contains("--cluster-domain=cluster.local", kubelet, StringComparison.Ordinal);
        Assert.Contains("--node-ip=10.0.0.21", kubelet, StringComparison.Ordinal);
        Assert.Contains("--hostname-override=w1", kubelet, StringComparison.Ordinal);
    }

    [Fact]
    public void The_api_server_dials_kubelets_at_their_address_and_verifies_them()
    {
        // found by the stand-in end-to-end test: with the default address order (Hostname first) the apiserver dials
        // the Node name, a machine serial no DNS resolves, so logs and exec fail
        var inventory = Inventory();
        var apiserver = NodeConfiguration.RenderUnit(ClusterComponent.KubeApiserver, inventory[0], Def, new ClusterTopology(Def, inventory, Converged(Def, inventory)));

        Assert.Contains("--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname", apiserver, StringComparison.Ordinal);
        Assert.Contains("--kubelet-certificate-authority=/etc/nekko/pki/ca.crt", apiserver, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubelet_refuses_anonymous_requests_and_authorizes_through_the_api_server()
    {
        // found by the stand-in end-to-end test: the kubelet's flag defaults (anonymous-auth=true,
        // authorization-mode=AlwaysAllow) let anyone who reaches :10250 run commands in pods
        var inventory = Inventory();
        var kubelet = NodeConfiguration.RenderUnit(ClusterComponent.Kubelet, inventory[3], Def, new ClusterTopology(Def, inventory, Converged(Def, inventory)));

        Assert.Contains("--anonymous-auth=false", kubelet, StringComparison.Ordinal);
        Assert.Contains("--authentication-token-webhook=true", kubelet, StringComparison.Ordinal);
        Assert.Contains("--authorization-mode=Webhook", kubelet, StringComparison.Ordinal);
        Assert.Contains("--client-ca-file=/etc/nekko/pki/ca.crt", kubelet, StringComparison.Ordinal);
    }
}
