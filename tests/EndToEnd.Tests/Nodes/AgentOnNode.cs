using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Nodes;

/// <summary>
/// Puts a machine's agent on an nspawn node the way its installer would: the machine is registered, its rendered
/// cloud-init hands out the agent bootstrap token, which goes to <c>/etc/nekko/agent.token</c> with the boot
/// servers' CA; the real Native AOT agent runs as a systemd unit (enabled, so it starts again when the node boots).
/// </summary>
public static partial class AgentOnNode
{
    private const string UserData = """
        #cloud-config
        nekko:
          token: {{ bootstrap_token | json }}

        """;

    /// <summary>IPAM for the lab (addresses .10–.99 for registered machines) and a cloud-init profile per role used here.</summary>
    public static async Task PrepareLabAsync(BootServerInLab server, params string[] roles)
    {
        var lab = server.Lab;
        var prefix = lab.SubnetPrefix;
        await server.ApiAsync("PUT", "/api/v1/ipam", $$"""
            {"subnets":[{"name":"lab","cidr":"{{lab.Cidr}}","rangeStart":"{{prefix}}.10","rangeEnd":"{{prefix}}.99",
                         "dhcpRangeStart":"{{prefix}}.100","dhcpRangeEnd":"{{prefix}}.200"}]}
            """);
        foreach (var role in roles.Length == 0 ? ["node", "worker", "spare"] : roles)
        {
            await server.ApiAsync("PUT", "/api/v1/profiles/" + role, JsonSerializer.Serialize(new
            {
                kernel = "vmlinuz",
                initrds = new[] { "initrd.img" },
                cmdline = "console=ttyS0",
                config = new { kind = "cloud-init", userData = UserData },
            }));
        }
    }

    /// <summary>
    /// Registers <paramref name="serial"/> and starts its agent on <paramref name="node"/> (heartbeat every 2 s, user
    /// check scripts critical). With <paramref name="expectAddress"/> the machine must get the node's own address
    /// from IPAM (what the Kubernetes installer dials): IPAM hands out the lowest free address of the range, so
    /// register nodes started at the range's start in address order.
    /// </summary>
    public static async Task InstallAsync(
        BootServerInLab server, TestNode node, string agentBinary, string serial, string role, string mac, string? wolMac = null, bool expectAddress = false)
    {
        var registered = await server.ApiAsync("POST", "/api/v1/machines", JsonSerializer.Serialize(new
        {
            serial,
            macs = new[] { mac },
            role,
            power = wolMac is null ? null : new { wolMac },
        }));
        if (expectAddress)
        {
            var ipv4 = JsonDocument.Parse(registered).RootElement.GetProperty("ipv4").EnumerateArray().Select(a => a.GetString()).ToList();
            Assert.True(ipv4.SequenceEqual([node.Address]), $"{serial} got IPAM address(es) [{string.Join(", ", ipv4)}], not its node's {node.Address}");
        }

        var userData = await server.Lab.Exec("curl", "-sS", "--fail-with-body", $"{server.Url}/boot/config/{serial}/user-data");
        var token = TokenLine().Match(userData).Groups[1].Value;
        Assert.StartsWith("nekkoboot_", token);
        Directory.CreateDirectory(Path.Combine(node.Root, "etc/nekko/checks.d"));
        await File.WriteAllTextAsync(Path.Combine(node.Root, "etc/nekko/agent.token"), token + "\n");
        File.Copy(server.CaFile, Path.Combine(node.Root, "etc/nekko/ca.pem"), overwrite: true);
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
        File.Copy(agentBinary, Path.Combine(node.Root, "usr/local/bin/nekko-agent"), overwrite: true);
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
        await SshAsync(node, "chmod 0600 /etc/nekko/agent.token && systemctl daemon-reload && systemctl enable --now nekko-agent.service");
    }

    public static async Task SshAsync(TestNode node, string command)
    {
        var (code, text) = await node.Cluster.SshAsync(node, command);
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
    }

    public static async Task<JsonElement> MachineAsync(BootServerInLab server, string serial) =>
        JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement;

    public static async Task<JsonElement> HealthAsync(BootServerInLab server, string serial) =>
        JsonDocument.Parse(await server.ApiAsync("GET", $"/api/v1/machines/{serial}/health")).RootElement;

    public static async Task<string> StateAsync(BootServerInLab server, string serial) =>
        (await MachineAsync(server, serial)).GetProperty("state").GetString()!;

    public static async Task WaitForStateAsync(BootServerInLab server, string serial, string state, TimeSpan timeout, ITestOutputHelper output)
    {
        var until = Stopwatch.StartNew();
        var last = "";
        while (until.Elapsed < timeout)
        {
            last = await StateAsync(server, serial);
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
