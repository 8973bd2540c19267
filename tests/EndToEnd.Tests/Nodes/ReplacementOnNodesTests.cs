using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Nodes;

/// <summary>
/// Issue 6 must-show 3: automatic replacement on real nodes. Two nspawn nodes run the real agent (systemd unit)
/// against the real boot server: a worker and a spare. The spare is powered off (its node stopped) and becomes
/// unreachable. The stand-in for the spare's NIC is a listener in its own namespace on the lab bridge: when a valid
/// magic packet for the spare's Wake-on-LAN MAC arrives, it starts the stopped node. Then the worker's node is killed:
/// the state setter makes it unreachable, the replacement controller retires it and sends the magic packet (checked
/// byte for byte as captured on the bridge), the spare boots, its agent heartbeats, and the spare carries the
/// worker's role; the failed machine is retired. Timings from the kill to each step go to the output.
/// </summary>
public sealed class ReplacementOnNodesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_worker_is_replaced_by_a_spare_woken_by_wake_on_lan()
    {
        var agent = await AgentBinary.GetAsync();
        await using var lab = await Lab.CreateAsync(taps: 0);
        var discovery = Directory.CreateTempSubdirectory("nekko-e2e-nodisc-").FullName;
        await using var server = await BootServerInLab.StartAsync(lab, discovery,
            "--unreachable-after-seconds", "10", "--state-sweep-seconds", "1",
            "--replace-after-seconds", "3", "--wake-interval-seconds", "5", "--wake-timeout-seconds", "180");
        var nicNs = await lab.AddHostAsync("wol", 250);
        await using var nodes = await TestNodeCluster.StartAsync(lab, 2, firstOctet: 30);
        await AgentOnNode.PrepareLabAsync(server);

        var tag = Random.Shared.Next(1000, 9999);
        var (worker, spare) = ($"E2E-WORKER-{tag}", $"E2E-SPARE-{tag}");
        var spareMac = $"52:54:00:5e:{tag % 100:x2}:{tag / 100 % 100:x2}";
        await AgentOnNode.InstallAsync(server, nodes.Nodes[0], agent, worker, "worker", $"52:54:00:5d:{tag % 100:x2}:{tag / 100 % 100:x2}");
        await AgentOnNode.InstallAsync(server, nodes.Nodes[1], agent, spare, "spare", spareMac, wolMac: spareMac);
        await AgentOnNode.WaitForStateAsync(server, worker, "healthy", TimeSpan.FromSeconds(60), output);
        await AgentOnNode.WaitForStateAsync(server, spare, "healthy", TimeSpan.FromSeconds(60), output);

        // The spare is switched off and, once the boot servers notice, sleeps as "unreachable".
        await nodes.Nodes[1].StopAsync();
        await AgentOnNode.WaitForStateAsync(server, spare, "unreachable", TimeSpan.FromSeconds(40), output);

        // Its NIC's stand-in: a host on the bridge that powers the node on at a valid magic packet for its MAC
        // (its namespace was joined to the bridge before the nodes started: a new bridge port can change the bridge's
        // MAC, and the nodes' ARP entries for the boot server would go stale for a while).
        using var nic = NetworkNamespaces.Run(nicNs, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, 9));
            return s;
        });
        var clock = Stopwatch.StartNew();
        var captured = new List<(TimeSpan At, byte[] Payload, EndPoint From)>();
        var woken = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var booted = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = ExpectedMagicPacket(spareMac);
        var listener = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            while (true)
            {
                var r = await nic.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                var payload = buffer[..r.ReceivedBytes];
                lock (captured)
                {
                    captured.Add((clock.Elapsed, payload, r.RemoteEndPoint));
                }

                if (payload.AsSpan().SequenceEqual(expected) && !woken.Task.IsCompleted)
                {
                    woken.TrySetResult(clock.Elapsed);
                    await nodes.Nodes[1].StartAgainAsync(); // returns once the node answers SSH
                    booted.TrySetResult(clock.Elapsed);
                }
            }
        });

        // The worker dies (it was heartbeating all along: still healthy).
        var before = await AgentOnNode.StateAsync(server, worker);
        Assert.True(before == "healthy", $"the worker is {before} before it is killed; log:\n{server.Log}");
        clock.Restart();
        await nodes.Nodes[0].StopAsync();
        var killed = clock.Elapsed;

        await AgentOnNode.WaitForStateAsync(server, worker, "unreachable", TimeSpan.FromSeconds(40), output);
        var unreachable = clock.Elapsed;
        Assert.True(unreachable >= TimeSpan.FromSeconds(7), $"unreachable {unreachable} after the kill: its heartbeats had stopped before (limit 10 s, interval 2 s)");
        await AgentOnNode.WaitForStateAsync(server, worker, "retiring", TimeSpan.FromSeconds(30), output);
        var retiring = clock.Elapsed;
        var packetAt = await woken.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var spareStarted = await booted.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var role = "";
        while (clock.Elapsed < spareStarted + TimeSpan.FromSeconds(120) && role != "worker")
        {
            role = (await AgentOnNode.MachineAsync(server, spare)).GetProperty("role").GetString()!;
            await Task.Delay(250);
        }

        var roleTaken = clock.Elapsed;
        Assert.True(role == "worker", $"the spare still has role '{role}'; log:\n{server.Log}");
        await AgentOnNode.WaitForStateAsync(server, worker, "retired", TimeSpan.FromSeconds(10), output);

        // The spare's agent is asked to reboot (to network-boot into its new role's install): the node reboots
        // (a new boot id) and its agent heartbeats again.
        var firstBoot = await BootIdAsync(nodes.Nodes[1]);
        var bootId = firstBoot;
        while (clock.Elapsed < roleTaken + TimeSpan.FromSeconds(120) && (bootId is null || bootId == firstBoot))
        {
            await Task.Delay(500);
            bootId = await BootIdAsync(nodes.Nodes[1]);
        }

        var rebooted = clock.Elapsed;
        Assert.True(bootId is not null && bootId != firstBoot, $"the spare's node did not reboot; log:\n{server.Log}");
        var beatBefore = (await AgentOnNode.HealthAsync(server, spare)).GetProperty("health").GetProperty("lastHeartbeatAt").GetDateTimeOffset();
        var beatAfter = beatBefore;
        while (clock.Elapsed < rebooted + TimeSpan.FromSeconds(60) && beatAfter <= beatBefore)
        {
            await Task.Delay(500);
            beatAfter = (await AgentOnNode.HealthAsync(server, spare)).GetProperty("health").GetProperty("lastHeartbeatAt").GetDateTimeOffset();
        }

        var heartbeatsAgain = clock.Elapsed;
        Assert.True(beatAfter > beatBefore, "no heartbeat from the spare after its reboot");
        Assert.Contains("machine.action", await server.ApiAsync("GET", $"/api/v1/audit?serial={spare}"), StringComparison.Ordinal);

        // The packet as it crossed the bridge: UDP from the boot server to the segment's broadcast, port 9, 102 bytes.
        (TimeSpan At, byte[] Payload, EndPoint From) first;
        lock (captured)
        {
            first = captured[0];
        }

        Assert.Equal(expected, first.Payload);
        Assert.Equal(lab.ServerAddress, ((IPEndPoint)first.From).Address.ToString());

        var record = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/replacements")).RootElement.GetProperty("replacements")
            .EnumerateArray().Single(r => r.GetProperty("failed").GetString() == worker);
        Assert.Equal("completed", record.GetProperty("phase").GetString());
        Assert.Equal(spare, record.GetProperty("spare").GetString());
        Assert.Equal($"{lab.SubnetPrefix}.255:9", record.GetProperty("wakeTarget").GetString());
        var audit = await server.ApiAsync("GET", $"/api/v1/audit?serial={worker}");
        Assert.Contains("replacement.start", audit, StringComparison.Ordinal);
        Assert.Contains("replacement.wake", audit, StringComparison.Ordinal);
        Assert.Contains("replacement.complete", audit, StringComparison.Ordinal);

        output.WriteLine($"from the kill ({killed.TotalSeconds:0.0} s to stop the node): unreachable {unreachable.TotalSeconds:0.0} s (limit 10 s + sweep 1 s), " +
            $"retiring {retiring.TotalSeconds:0.0} s (replace after 3 s), magic packet {packetAt.TotalSeconds:0.0} s, spare node up (SSH answers) {spareStarted.TotalSeconds:0.0} s, " +
            $"spare carries the role {roleTaken.TotalSeconds:0.0} s (first heartbeat {record.GetProperty("spareHeartbeatAt").GetString()}, " +
            $"started {record.GetProperty("startedAt").GetString()}, completed {record.GetProperty("completedAt").GetString()}); " +
            $"{captured.Count} packet(s) captured, {record.GetProperty("wakePackets").GetInt32()} sent; " +
            $"rebooted (new boot id seen) {rebooted.TotalSeconds:0.0} s, heartbeats again {heartbeatsAgain.TotalSeconds:0.0} s");
        Directory.Delete(discovery, recursive: true);
        _ = listener; // ends with the socket
    }

    /// <summary>The node's boot id (a new one per boot), or null while it does not answer.</summary>
    private static async Task<string?> BootIdAsync(TestNode node)
    {
        var (code, text) = await node.Cluster.SshAsync(node, "cat /proc/sys/kernel/random/boot_id", TimeSpan.FromSeconds(10));
        return code == 0 ? text.Trim() : null;
    }

    /// <summary>Written out here rather than taken from the product's code: 6 × 0xFF, then the MAC 16 times.</summary>
    private static byte[] ExpectedMagicPacket(string mac)
    {
        var address = mac.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();
        return [.. Enumerable.Repeat((byte)0xFF, 6), .. Enumerable.Range(0, 16).SelectMany(_ => address)];
    }
}
