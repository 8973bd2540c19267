using System.Diagnostics;
using System.Text.Json.Nodes;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

/// <summary>The Kubernetes API over SSH: the commands, the answers, the drain's choice of pods, and the component probe lines.</summary>
public sealed class KubernetesApiTests
{
    [Theory]
    [InlineData("{\"kind\":\"NodeList\"}\n200", 200, "{\"kind\":\"NodeList\"}")]
    [InlineData("{\"a\":1}\n{\"b\":2}\n404\n", 404, "{\"a\":1}\n{\"b\":2}")]
    [InlineData("\n000", 0, "")]
    [InlineData("", 0, "")]
    public void ParseResponse_splits_the_status_from_the_body(string output, int status, string body)
    {
        Assert.Equal((status, body), KubernetesApi.ParseResponse(output));
    }

    [Fact]
    public void ParseNodeList_reads_ready_unschedulable_the_installers_annotation_and_labels()
    {
        var json = """
            {"kind":"NodeList","items":[
              {"metadata":{"name":"sn-a","labels":{"kubernetes.io/hostname":"sn-a","node-role.kubernetes.io/control-plane":""}},
               "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}]}},
              {"metadata":{"name":"sn-b","annotations":{"nekkometal.io/cordoned-by-installer":"true"}},"spec":{"unschedulable":true},
               "status":{"conditions":[{"type":"Ready","status":"Unknown"}]}},
              {"metadata":{}}
            ]}
            """;
        var nodes = KubernetesApi.ParseNodeList(json);
        Assert.Equal(["sn-a", "sn-b"], nodes.Keys.Order());
        Assert.True(nodes["sn-a"].Ready);
        Assert.False(nodes["sn-a"].Unschedulable);
        Assert.Equal("", nodes["sn-a"].Labels["node-role.kubernetes.io/control-plane"]);
        Assert.False(nodes["sn-b"].Ready);
        Assert.True(nodes["sn-b"].Unschedulable && nodes["sn-b"].CordonedByInstaller);
    }

    [Fact]
    public void A_drain_evicts_all_but_daemonset_mirror_and_finished_pods()
    {
        var json = """
            {"items":[
              {"metadata":{"name":"web-1","namespace":"shop"},"status":{"phase":"Running"}},
              {"metadata":{"name":"fluentd-x","namespace":"kube-system","ownerReferences":[{"kind":"DaemonSet","name":"fluentd"}]},"status":{"phase":"Running"}},
              {"metadata":{"name":"static-sn-b","namespace":"kube-system","annotations":{"kubernetes.io/config.mirror":"abc"}}},
              {"metadata":{"name":"job-1","namespace":"batch"},"status":{"phase":"Succeeded"}},
              {"metadata":{"name":"bare"}}
            ]}
            """;
        Assert.Equal([("shop", "web-1"), ("default", "bare")], KubernetesApi.PodsToEvict(json));
        Assert.Empty(KubernetesApi.PodsToEvict("""{"kind":"PodList","items":[]}"""));
    }

    [Fact]
    public void Cordon_and_uncordon_patches_set_and_clear_unschedulable_and_the_annotation()
    {
        var cordon = JsonNode.Parse(KubernetesApi.CordonPatch())!;
        Assert.True(cordon["spec"]!["unschedulable"]!.GetValue<bool>());
        Assert.Equal("true", cordon["metadata"]!["annotations"]![KubernetesApi.CordonedAnnotation]!.GetValue<string>());
        var uncordon = JsonNode.Parse(KubernetesApi.UncordonPatch())!.AsObject();
        // JSON merge patch: an explicit null removes the field
        Assert.True(uncordon["spec"]!.AsObject().ContainsKey("unschedulable") && uncordon["spec"]!["unschedulable"] is null);
        Assert.True(uncordon["metadata"]!["annotations"]!.AsObject().ContainsKey(KubernetesApi.CordonedAnnotation));
        Assert.Equal("""{"metadata":{"labels":{"node-role.kubernetes.io/worker":"","zone":"a"}}}""",
            KubernetesApi.LabelPatch("node-role.kubernetes.io/worker=,zone=a"));
    }

    [Fact]
    public void Paths_escape_names_and_the_field_selector()
    {
        Assert.Equal("/api/v1/nodes/sn-a", KubernetesApi.NodePath("sn-a"));
        Assert.Equal("/api/v1/pods?fieldSelector=spec.nodeName%3Dsn-a", KubernetesApi.PodsOnNodePath("sn-a"));
        Assert.Equal("/api/v1/namespaces/shop/pods/web-1/eviction", KubernetesApi.EvictionPath("shop", "web-1"));
    }

    [Fact]
    public async Task The_request_command_is_valid_shell_and_quotes_the_body()
    {
        var command = KubernetesApi.Request("PATCH", "/api/v1/nodes/sn-a", "{\"metadata\":{\"labels\":{\"it's\":\"x\"}}}");
        Assert.Contains("--data-binary '{\"metadata\":{\"labels\":{\"it'\\''s\":\"x\"}}}'", command, StringComparison.Ordinal);
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true };
        psi.ArgumentList.Add("-n");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var sh = Process.Start(psi)!;
        var error = await sh.StandardError.ReadToEndAsync();
        await sh.WaitForExitAsync();
        Assert.True(sh.ExitCode == 0, error);
    }

    [Theory]
    [InlineData("Kubernetes v1.31.0", "", "1.31.0")]
    [InlineData("containerd github.com/containerd/containerd v1.7.22 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c", "", "1.7.22")]
    [InlineData("Kubernetes v1.30.4", """{"major":"1","minor":"31","gitVersion":"v1.31.2"}""", "1.31.2")]
    [InlineData("", "curl: (7) Failed to connect", null)]
    [InlineData("", "", null)]
    public void ComponentVersion_reads_version_lines_and_the_apiserver_version_body(string line, string json, string? expected)
    {
        Assert.Equal(expected, NodeProbeScript.ComponentVersion(line, json));
    }

    [Fact]
    public void The_probe_reads_component_health_and_versions()
    {
        var output = """
            #components
            containerd|200|containerd github.com/containerd/containerd v1.7.0 abc|
            kube-apiserver|200|Kubernetes v1.30.0|{"major":"1","minor":"31","gitVersion":"v1.31.0"}
            kube-controller-manager|500|Kubernetes v1.31.0|
            kube-scheduler|000||
            kubelet|200|Kubernetes v1.31.0|
            #end
            """.Replace("\r", "", StringComparison.Ordinal);
        var probe = NodeProbeScript.Parse(output);
        Assert.Equal(new ComponentProbe(true, "1.7.0", "200"), probe.Components[ClusterComponent.ContainerRuntime]);
        Assert.Equal(new ComponentProbe(true, "1.31.0", "200"), probe.Components[ClusterComponent.KubeApiserver]); // the running process
        Assert.False(probe.Components[ClusterComponent.KubeControllerManager].Healthy);
        Assert.Equal(new ComponentProbe(false, null, "000"), probe.Components[ClusterComponent.KubeScheduler]);
        Assert.False(probe.Components.ContainsKey(ClusterComponent.KubeProxy));
        var script = NodeProbeScript.Render();
        foreach (var component in NodeProbeScript.ProbedComponents)
        {
            Assert.Contains($"printf '%s|%s|%s|%s\\n' {component.ToWire()} ", script, StringComparison.Ordinal);
        }

        Assert.Contains("/proc/$pid/exe --version", script, StringComparison.Ordinal);
    }
}
