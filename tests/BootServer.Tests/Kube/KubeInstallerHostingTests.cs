using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using NekkoMetal.BootServer.Kube;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests.Kube;

/// <summary>The installer hosted in boot servers on a real etcd: on only with a key, one leader of two, its status.</summary>
[Collection(EtcdCollection.Name)]
public sealed class KubeInstallerHostingTests(EtcdFixture etcd) : IDisposable
{
    private readonly string _keyDir = Directory.CreateTempSubdirectory("nekko-kube-key-").FullName;

    public void Dispose() => Directory.Delete(_keyDir, recursive: true);

    private async Task<string> KeyAsync()
    {
        var path = Path.Combine(_keyDir, "id_ed25519");
        using var p = Process.Start(new ProcessStartInfo("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path]) { RedirectStandardOutput = true })!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Two_boot_servers_with_a_key_elect_one_installer_whose_status_shows_the_inventory_as_probed()
    {
        var prefix = EtcdFixture.NewPrefix();
        var settings = new Dictionary<string, string?>
        {
            ["kubeSshKey"] = await KeyAsync(),
            ["kubeSshPort"] = "1", // nothing listens: every node is unreachable at once
            ["kubeConnectTimeoutSeconds"] = "1",
            ["kubeIntervalSeconds"] = "1",
            ["leaderLeaseSeconds"] = "3",
        };
        await using var a = new BootServerApp(etcd.Endpoint, prefix, settings);
        var token = await a.AdminTokenAsync();
        await using var b = new BootServerApp(etcd.Endpoint, prefix, settings);
        await b.WaitReadyAsync();
        using var clientA = a.Client(token);
        using var clientB = b.Client(token);

        var machine = await clientA.PostAsync("/api/v1/machines", Json("""{"serial":"CP-1","macs":["52:54:00:aa:00:01"],"role":"control-plane"}"""));
        Assert.True(machine.StatusCode == HttpStatusCode.Created, await machine.Content.ReadAsStringAsync());
        var put = await clientA.PutAsync("/api/v1/cluster", Json(ClusterApiTests.Sample().ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        // exactly one leads; its status has a probe round of the inventory (CP-1, unreachable) and a plan held back by it
        var until = DateTime.UtcNow.AddSeconds(30);
        JsonNode leader, other;
        while (true)
        {
            var sa = JsonNode.Parse(await clientA.GetStringAsync("/api/v1/cluster/status"))!;
            var sb = JsonNode.Parse(await clientB.GetStringAsync("/api/v1/cluster/status"))!;
            Assert.True((bool)sa["installerEnabled"]! && (bool)sb["installerEnabled"]!);
            Assert.False((bool)sa["leader"]! && (bool)sb["leader"]!, "two leaders");
            (leader, other) = (bool)sa["leader"]! ? (sa, sb) : (sb, sa);
            if ((bool)leader["leader"]! && leader["observedAt"] is not null)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < until, "no leader with a probe round within 30 s: " + sa.ToJsonString() + " / " + sb.ToJsonString());
            await Task.Delay(200);
        }

        var node = leader["nodes"]!.AsArray().Single()!;
        Assert.Equal("CP-1", (string?)node["serial"]);
        Assert.Equal("cp-1", (string?)node["name"]);
        Assert.False((bool)node["reachable"]!);
        Assert.False((bool)leader["converged"]!);
        Assert.NotEmpty(leader["blockers"]!.AsArray());
        Assert.Equal("lab", (string?)leader["clusterName"]);
        Assert.Equal((string?)leader["leaderId"], (string?)other["leaderId"]);
        Assert.Empty(other["nodes"]!.AsArray());
        Assert.Contains("does not lead", (string?)other["note"], StringComparison.Ordinal);
    }

    [Fact]
    public void Options_report_every_problem_at_once()
    {
        var result = new KubeInstallerOptionsValidator().Validate(null, new KubeInstallerOptions
        {
            KubeSshKey = "/nonexistent/key",
            KubeSshUser = "bad user",
            KubeSshPort = 0,
            KubeParallelism = 0,
            KubeLastPhase = "everything",
        });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(5, failures.Count);
        Assert.Contains(failures, f => f.Contains("--kube-ssh-key", StringComparison.Ordinal) && f.Contains("/nonexistent/key", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("etcd-cluster, certificates, control-plane, kubelets, nodes, upgrade", StringComparison.Ordinal));
        Assert.True(new KubeInstallerOptionsValidator().Validate(null, new KubeInstallerOptions()).Succeeded); // off by default, valid
    }
}
