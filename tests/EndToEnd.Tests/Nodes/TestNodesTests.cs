using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Nodes;

/// <summary>
/// The systemd-nspawn test nodes themselves (the fixture the agent and KubeInstaller tests stand on): two real Debian
/// nodes boot with systemd as PID 1, answer SSH with the test's key, run a unit installed over SSH, reach each other on
/// the lab bridge and nothing else; a node powered off stops answering and, started again, still has its disk.
/// </summary>
public sealed class TestNodesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Lab _lab = null!;
    private TestNodeCluster _nodes = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync(taps: 0);
        _nodes = await TestNodeCluster.StartAsync(_lab, 2);
    }

    public async Task DisposeAsync()
    {
        if (_nodes is not null)
        {
            await _nodes.DisposeAsync();
        }

        await _lab.DisposeAsync();
    }

    private async Task<string> Ssh(TestNode node, string command)
    {
        var (code, text) = await _nodes.SshAsync(node, command);
        output.WriteLine($"{node.Name}$ {command} -> {code}: {text.Trim()}");
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
        return text.Trim();
    }

    [Fact]
    public async Task Nodes_boot_systemd_answer_ssh_run_units_and_keep_their_disk_across_a_power_cycle()
    {
        var (a, b) = (_nodes.Nodes[0], _nodes.Nodes[1]);
        Assert.Equal(a.Name, await Ssh(a, "hostname"));
        Assert.Equal("systemd", await Ssh(a, "cat /proc/1/comm"));
        Assert.Matches("^(running|degraded)$", await Ssh(a, "systemctl is-system-running --wait || true"));

        // A unit written and started over SSH, as an installer does.
        await Ssh(a, "printf '[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/probe.service"
            + " && systemctl daemon-reload && systemctl enable --now probe.service");
        Assert.Equal("active", await Ssh(a, "systemctl is-active probe.service"));

        // The lab bridge joins them; there is no way out.
        await Ssh(a, $"ping -c1 -W2 {b.Address}");
        Assert.Equal("", await Ssh(a, "ip route show default"));

        // Power off: no answer; power on: the same disk (the unit is still enabled and starts at boot).
        await a.StopAsync();
        var (down, _) = await _nodes.SshAsync(a, "true", TimeSpan.FromSeconds(15));
        Assert.NotEqual(0, down);
        await Ssh(b, "true"); // the other node is not affected
        await a.StartAgainAsync();
        Assert.Equal("active", await Ssh(a, "systemctl is-active probe.service"));
    }
}
