using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
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
public sealed partial class AgentOnNodesTests(ITestOutputHelper output)
{
    private const string UserData = """
        #cloud-config
        nekko:
          token: {{ bootstrap_token | json }}

        """;

    [Fact]
    public async Task Agents_on_real_nodes_drive_healthy_unreachable_unhealthy_and_back()
    {
        var agent = await AgentBinary.GetAsync();
        await using var lab = await Lab.CreateAsync(taps: 0);
        var discovery = Directory.CreateTempSubdirectory("nekko-e2e-nodisc-").FullName;
        await using var server = await BootServerInLab.StartAsync(lab, discovery,
            "--unreachable-after-seconds", "10", "--unhealthy-after-seconds", "4", "--state-sweep-seconds", "1");
        await using var nodes = await TestNodeCluster.StartAsync(lab, 2);
        var prefix = lab.SubnetPrefix;
        await server.ApiAsync("PUT", "/api/v1/ipam", $$"""
            {"subnets":[{"name":"lab","cidr":"{{lab.Cidr}}","rangeStart":"{{prefix}}.10","rangeEnd":"{{prefix}}.99",
                         "dhcpRangeStart":"{{prefix}}.100","dhcpRangeEnd":"{{prefix}}.200"}]}
            """);
        await server.ApiAsync("PUT", "/api/v1/profiles/node", JsonSerializer.Serialize(new
        {
            kernel = "vmlinuz",
            initrds = new[] { "initrd.img" },
            cmdline = "console=ttyS0",
            config = new { kind = "cloud-init", userData = UserData },
        }));

        var serials = new List<string>();
        foreach (var (node, i) in nodes.Nodes.Select((n, i) => (n, i)))
        {
            var serial = $"E2E-AGENT-{Random.Shared.Next(1000, 9999)}-{i}";
            serials.Add(serial);
            await server.ApiAsync("POST", "/api/v1/machines", JsonSerializer.Serialize(new
            {
                serial,
                macs = new[] { $"52:54:00:a6:{Random.Shared.Next(0, 255):x2}:{i:x2}" },
                role = "node",
            }));

            // The machine's own credentials, as its installer would write them from the rendered configuration.
            var userData = await lab.Exec("curl", "-sS", "--fail-with-body", $"{server.Url}/boot/config/{serial}/user-data");
            var token = TokenLine().Match(userData).Groups[1].Value;
            Assert.StartsWith("nekkoboot_", token);
            Directory.CreateDirectory(Path.Combine(node.Root, "etc/nekko/checks.d"));
            await File.WriteAllTextAsync(Path.Combine(node.Root, "etc/nekko/agent.token"), token + "\n");
            File.Copy(server.CaFile, Path.Combine(node.Root, "etc/nekko/ca.pem"));
            await File.WriteAllTextAsync(Path.Combine(node.Root, "etc/nekko/agent.json"), JsonSerializer.Serialize(new
            {
                agent = new
                {
                    bootServers = new[] { server.ApiUrl },
                    caFile = "/etc/nekko/ca.pem",
                    tokenFile = "/etc/nekko/agent.token",
                    serial,
                    interval = "00:00:02",
                    scriptTimeout = "00:00:02",
                    kubeletTimeout = "00:00:02",
                    heartbeatTimeout = "00:00:02",
                    criticalChecks = new[] { "script:*" },
                },
            }));
            File.Copy(agent, Path.Combine(node.Root, "usr/local/bin/nekko-agent"));
            await File.WriteAllTextAsync(Path.Combine(node.Root, "etc/systemd/system/nekko-agent.service"), """
                [Unit]
                Description=NekkoMetal node agent
                After=network-online.target

                [Service]
                ExecStart=/usr/local/bin/nekko-agent
                Restart=always
                RestartSec=1

                [Install]
                WantedBy=multi-user.target

                """);
            await Ssh(node, "chmod 0600 /etc/nekko/agent.token && systemctl daemon-reload && systemctl enable --now nekko-agent.service");
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

    private static async Task Ssh(TestNode node, string command)
    {
        var (code, text) = await node.Cluster.SshAsync(node, command);
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
    }

    private static async Task<string> State(BootServerInLab server, string serial) =>
        JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement.GetProperty("state").GetString()!;

    private async Task WaitForState(BootServerInLab server, string serial, string state, TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        var last = "";
        while (until.Elapsed < timeout)
        {
            last = await State(server, serial);
            if (last == state)
            {
                return;
            }

            await Task.Delay(250);
        }

        var health = await server.ApiAsync("GET", $"/api/v1/machines/{serial}/health");
        output.WriteLine(server.Log);
        Assert.Fail($"{serial} is {last}, not {state}, after {timeout}; health: {health}");
    }

    [GeneratedRegex("token: \"([^\"]+)\"")]
    private static partial Regex TokenLine();
}
