using System.Diagnostics;
using System.Text.Json;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Nodes;

/// <summary>
/// Issue 6 must-show 2: real nodes (systemd-nspawn, docs/test-nodes.md) each run the real agent — the Native AOT
/// executable as a systemd unit — against a real boot server (its own embedded etcd) on the lab bridge, over HTTPS
/// trusting the boot server's CA. Each agent starts with only the bootstrap token its rendered configuration hands
/// out and the CA file: it enrols (token + CSR of a key it generates → client certificate bound to its serial, kept in
/// /var/lib/nekko-agent/agent.pem, 0600), after which every heartbeat is mTLS and the token is used up. The state
/// setter runs with short limits: unreachable after 10 s without a heartbeat, unhealthy after a critical check fails
/// for 4 s, swept every second. Stopping the agent makes its machine unreachable; a failing critical check (a user
/// script exiting 2) makes it unhealthy after the grace; recovery makes both healthy again. Timings go to the output.
/// </summary>
public sealed class AgentOnNodesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Agents_on_real_nodes_drive_healthy_unreachable_unhealthy_and_back()
    {
        var agent = await AgentBinary.GetAsync();
        await using var lab = await Lab.CreateAsync(taps: 0);
        var discovery = Directory.CreateTempSubdirectory("nekko-e2e-nodisc-").FullName;
        await using var server = await BootServerInLab.StartAsync(lab, discovery,
            "--unreachable-after-seconds", "10", "--unhealthy-after-seconds", "4", "--state-sweep-seconds", "1");
        await using var nodes = await TestNodeCluster.StartAsync(lab, 2);
        await AgentOnNode.PrepareLabAsync(server, "node");

        var serials = new List<string>();
        foreach (var (node, i) in nodes.Nodes.Select((n, i) => (n, i)))
        {
            var serial = $"E2E-AGENT-{Random.Shared.Next(1000, 9999)}-{i}";
            serials.Add(serial);
            await AgentOnNode.InstallAsync(server, node, agent, serial, "node", $"52:54:00:a6:{Random.Shared.Next(0, 255):x2}:{i:x2}");
        }

        var clock = Stopwatch.StartNew();
        await WaitForState(server, serials[0], "healthy", TimeSpan.FromSeconds(60));
        await WaitForState(server, serials[1], "healthy", TimeSpan.FromSeconds(60));
        output.WriteLine($"both healthy {clock.Elapsed.TotalSeconds:0.0} s after their agents started (enrolment included)");

        // Each agent enrolled: its key and certificate on the node (0600), its token used up, the server says so.
        foreach (var (node, i) in nodes.Nodes.Select((n, i) => (n, i)))
        {
            var (code, mode) = await node.Cluster.SshAsync(node, "stat -c %a /var/lib/nekko-agent/agent.pem && grep -c 'PRIVATE KEY-----' /var/lib/nekko-agent/agent.pem");
            Assert.True(code == 0, mode);
            Assert.Equal(["600", "2"], mode.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains($"Machine {serials[i]} enrolled its agent", server.Log, StringComparison.Ordinal);
            var token = (await File.ReadAllTextAsync(Path.Combine(node.Root, "etc/nekko/agent.token"))).Trim();
            using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=again", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequestPem();
            var again = await lab.Exec("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.CaFile, "-H", "Authorization: Bearer " + token,
                "-H", "Content-Type: application/json", "--data-binary", JsonSerializer.Serialize(new { csr }), server.ApiUrl + "/api/v1/agent/enrol");
            Assert.Equal("401", again.Trim());
        }

        // The agent of node 0 stops: unreachable within the timeout (10 s) plus a sweep.
        await Ssh(nodes.Nodes[0], "systemctl stop nekko-agent.service");
        clock.Restart();
        await WaitForState(server, serials[0], "unreachable", TimeSpan.FromSeconds(40));
        output.WriteLine($"unreachable {clock.Elapsed.TotalSeconds:0.0} s after its agent stopped (limit 10 s + sweep)");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(8), $"unreachable too early: {clock.Elapsed}");
        Assert.Equal("healthy", await State(server, serials[1]));

        // Node 1 gets a failing critical check: unhealthy after the grace (4 s).
        await Ssh(nodes.Nodes[1], "printf '#!/bin/sh\\necho disk on fire\\nexit 2\\n' > /etc/nekko/checks.d/fire && chmod +x /etc/nekko/checks.d/fire");
        clock.Restart();
        await WaitForState(server, serials[1], "unhealthy", TimeSpan.FromSeconds(40));
        output.WriteLine($"unhealthy {clock.Elapsed.TotalSeconds:0.0} s after its check started failing (grace 4 s + interval 2 s)");

        // Recovery: both healthy again.
        await Ssh(nodes.Nodes[1], "rm /etc/nekko/checks.d/fire");
        await Ssh(nodes.Nodes[0], "systemctl start nekko-agent.service");
        clock.Restart();
        await WaitForState(server, serials[1], "healthy", TimeSpan.FromSeconds(40));
        await WaitForState(server, serials[0], "healthy", TimeSpan.FromSeconds(40));
        output.WriteLine($"both healthy again {clock.Elapsed.TotalSeconds:0.0} s after recovery");

        var audit = await server.ApiAsync("GET", $"/api/v1/audit?serial={serials[0]}");
        Assert.Contains("state-setter", audit, StringComparison.Ordinal);
        Directory.Delete(discovery, recursive: true);
    }

    private static Task Ssh(TestNode node, string command) => AgentOnNode.SshAsync(node, command);

    private static Task<string> State(BootServerInLab server, string serial) => AgentOnNode.StateAsync(server, serial);

    private Task WaitForState(BootServerInLab server, string serial, string state, TimeSpan timeout) =>
        AgentOnNode.WaitForStateAsync(server, serial, state, timeout, output);
}
