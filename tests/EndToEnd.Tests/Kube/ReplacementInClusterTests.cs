using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using NekkoMetal.EndToEnd.Tests.Nodes;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// Issue 7 must-show 4: a control-plane machine replaced by the self-healing loop leaves the etcd cluster and its
/// replacement joins it, with no step by anyone. One real boot server process in the lab runs both loops — the
/// replacement controller (issue 6) and the hosted Kubernetes installer (<c>--kube-ssh-key</c>, phases up to
/// <c>etcd-cluster</c>: no Kubernetes binaries exist on this machine). Four nspawn nodes run the real agent: three
/// with role <c>control-plane</c>, one spare (Wake-on-LAN MAC). The installer bootstraps a 3-member TLS etcd from
/// the cluster definition (etcd from the node base, uploaded as an asset and pinned). Then the spare is switched
/// off, and one control-plane node is killed. From then on the test only watches: the machine becomes unreachable,
/// is retired, the spare is woken by a magic packet (its NIC's stand-in starts the node), takes the role, and the
/// installer removes the dead member, adds the spare as a learner and promotes it (etcd adds no member while a voter
/// is down, so a dead member goes first). Checked in the installer's history (order and node names) and in etcd
/// itself (member list and health over TLS on a live member).
/// </summary>
public sealed class ReplacementInClusterTests(ITestOutputHelper output)
{
    private const string ControlPlane = "control-plane";
    private const string EtcdctlTls =
        "ETCDCTL_API=3 etcdctl --cacert=/etc/nekko/pki/etcd/ca.crt --cert=/etc/nekko/pki/etcd/server.crt --key=/etc/nekko/pki/etcd/server.key --endpoints=https://127.0.0.1:2379";

    /// <summary>The definition and history as the cluster API writes them (camelCase, enums in kebab-case).</summary>
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    [Fact]
    public async Task A_killed_control_plane_node_is_replaced_in_etcd_by_the_spare_the_self_healing_loop_wakes()
    {
        var total = Stopwatch.StartNew();
        var agent = await AgentBinary.GetAsync();
        await using var lab = await Lab.CreateAsync(taps: 0);
        var discovery = Directory.CreateTempSubdirectory("nekko-e2e-nodisc-").FullName;
        var nicNs = await lab.AddHostAsync("wol", 250);
        // nodes at .10–.13: the first addresses IPAM hands out, so each machine's inventory address is its node's
        await using var nodes = await TestNodeCluster.StartAsync(lab, 4, firstOctet: 10);
        await using var server = await BootServerInLab.StartAsync(lab, discovery,
            "--unreachable-after-seconds", "10", "--state-sweep-seconds", "1",
            "--replace-after-seconds", "3", "--wake-interval-seconds", "5", "--wake-timeout-seconds", "180",
            "--kube-ssh-key", nodes.PrivateKey, "--kube-last-phase", "etcd-cluster", "--kube-interval-seconds", "2",
            "--kube-connect-timeout-seconds", "5", "--kube-health-timeout-seconds", "90");
        await AgentOnNode.PrepareLabAsync(server, ControlPlane, "spare");

        var tag = Random.Shared.Next(1000, 9999);
        string[] serials = [$"E2E-CP0-{tag}", $"E2E-CP1-{tag}", $"E2E-CP2-{tag}", $"E2E-SPARE-{tag}"];
        string Mac(int i) => $"52:54:00:{0x60 + i:x2}:{tag % 100:x2}:{tag / 100 % 100:x2}";
        for (var i = 0; i < 4; i++)
        {
            await AgentOnNode.InstallAsync(server, nodes.Nodes[i], agent, serials[i], i < 3 ? ControlPlane : "spare", Mac(i),
                wolMac: i < 3 ? null : Mac(i), expectAddress: true);
        }

        foreach (var serial in serials)
        {
            await AgentOnNode.WaitForStateAsync(server, serial, "healthy", TimeSpan.FromSeconds(90), output);
        }

        var (dead, spare) = (serials[0], serials[3]);
        var (deadName, spareName) = (NodeName(dead), NodeName(spare));
        var (live, survivors) = (nodes.Nodes[1], new[] { NodeName(serials[1]), NodeName(serials[2]) });

        // --- the cluster: etcd uploaded as an asset and pinned; the Kubernetes pins are placeholders that are valid
        // but never used (--kube-last-phase etcd-cluster stops before any phase that installs them; the validator
        // wants every component pinned)
        var baseDir = await TestNodeCluster.EnsureBaseAsync();
        var etcdBinary = Path.Combine(baseDir, "usr/bin/etcd");
        var etcdVersion = (await Lab.Run(etcdBinary, "--version")).Split('\n')[0]["etcd Version:".Length..].Trim();
        string etcdSha;
        await using (var file = File.OpenRead(etcdBinary))
        {
            etcdSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        }

        const string asset = "etcd-linux-amd64";
        var token = (await File.ReadAllTextAsync(Path.Combine(server.DataDir, "admin.token"))).Trim();
        await lab.Exec("curl", "-sS", "--fail-with-body", "--cacert", server.CaFile, "-H", "Authorization: Bearer " + token,
            "-H", "X-Checksum-Sha256: " + etcdSha, "-H", "Content-Type: application/octet-stream", "-T", etcdBinary, $"{server.ApiUrl}/api/v1/assets/{asset}");
        var placeholder = new string('0', 64);
        var definition = new ClusterDefinition("e2e-replace", "1.31.0", etcdVersion, "1.7.0", 3, "10.244.0.0/16", "10.96.0.0/12", "cluster.local",
            NodeSelector.ForRole(ControlPlane), NodeSelector.ForRole("worker"),
        [
            new BinaryPin(ClusterComponent.Etcd, etcdVersion, asset, etcdSha),
            .. Enum.GetValues<ClusterComponent>().Where(c => c != ClusterComponent.Etcd)
                .Select(c => new BinaryPin(c, c == ClusterComponent.ContainerRuntime ? "1.7.0" : "1.31.0", "unused-" + c.ToWire(), placeholder)),
        ]);
        await server.ApiAsync("PUT", "/api/v1/cluster", JsonSerializer.Serialize(definition, ApiJson));

        // --- bootstrap by the hosted installer: 3 healthy voting members
        var bootstrap = Stopwatch.StartNew();
        var members = await WaitForMembersAsync(server, [.. serials[..3].Select(NodeName)], TimeSpan.FromSeconds(180), "bootstrap");
        output.WriteLine($"bootstrap by the hosted installer: 3 healthy members {bootstrap.Elapsed.TotalSeconds:0.0} s after the definition was stored");

        // --- the spare is switched off and sleeps as "unreachable"
        await nodes.Nodes[3].StopAsync();
        await AgentOnNode.WaitForStateAsync(server, spare, "unreachable", TimeSpan.FromSeconds(40), output);

        // its NIC's stand-in: powers the node on at a valid magic packet for its MAC
        using var nic = NetworkNamespaces.Run(nicNs, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, 9));
            return s;
        });
        var clock = Stopwatch.StartNew();
        var woken = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var booted = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = ExpectedMagicPacket(Mac(3));
        var listener = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            while (true)
            {
                var r = await nic.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                if (buffer.AsSpan(0, r.ReceivedBytes).SequenceEqual(expected) && !woken.Task.IsCompleted)
                {
                    woken.TrySetResult(clock.Elapsed);
                    try
                    {
                        await nodes.Nodes[3].StartAgainAsync(); // returns once the node answers SSH
                        booted.TrySetResult(clock.Elapsed);
                    }
                    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
                    {
                        booted.TrySetException(e);
                    }
                }
            }
        });

        // --- a control-plane node dies; from here on the test only watches
        var before = await AgentOnNode.StateAsync(server, dead);
        Assert.True(before == "healthy", $"{dead} is {before} before it is killed");
        var killedAt = DateTimeOffset.UtcNow;
        clock.Restart();
        await nodes.Nodes[0].StopAsync();
        var stopped = clock.Elapsed;

        TimeSpan? unreachable = null, retiring = null, roleTaken = null, retired = null;
        IReadOnlyList<(OperationKind Kind, string Node, DateTimeOffset At)> changes = [];
        var deadline = TimeSpan.FromSeconds(240);
        while (true)
        {
            var deadMachine = await AgentOnNode.MachineAsync(server, dead);
            var state = deadMachine.GetProperty("state").GetString();
            if (state is "unreachable" or "retiring" or "retired")
            {
                unreachable ??= clock.Elapsed;
            }

            if (state is "retiring" or "retired")
            {
                retiring ??= clock.Elapsed;
            }

            if (state == "retired")
            {
                retired ??= clock.Elapsed;
            }

            if (roleTaken is null && (await AgentOnNode.MachineAsync(server, spare)).GetProperty("role").GetString() == ControlPlane)
            {
                roleTaken = clock.Elapsed;
            }

            changes = MemberChanges(await HistoryAsync(server), killedAt);
            members = await EtcdMembersAsync(server);
            if (changes.Any(c => c.Kind == OperationKind.PromoteEtcdMember)
                && Matches(members, [.. survivors, spareName]))
            {
                break;
            }

            if (clock.Elapsed > deadline)
            {
                await FailAsync(server, $"the replacement did not finish within {deadline} of the kill: {deadName} is {state}, " +
                    $"the spare's role taken at {roleTaken?.ToString() ?? "never"}; member changes since the kill: {Describe(changes, killedAt)}; members {Describe(members)}");
            }

            await Task.Delay(500);
        }

        var done = clock.Elapsed;

        // the installer's own record: the dead member removed, then the spare added as a learner and promoted. The
        // dead member goes first because etcd refuses to add any member, even a learner, while a voter is down
        // ("etcdserver: unhealthy cluster"); a *live* departed member is still removed only after its replacement votes.
        var history = await HistoryAsync(server);
        foreach (var r in history.Where(r => r.StartedAt >= killedAt && r.Outcome != OperationOutcome.Skipped))
        {
            output.WriteLine($"  +{(r.StartedAt - killedAt).TotalSeconds,6:0.0} s {(r.FinishedAt - r.StartedAt).TotalSeconds,5:0.0} s {r.Outcome,-9} {r.Description}");
        }

        var order = changes.Select(c => (c.Kind, c.Node)).ToList();
        var collapsed = order.Where((c, i) => i == 0 || c != order[i - 1]).ToList();
        Assert.True(collapsed.SequenceEqual([
                (OperationKind.RemoveEtcdMember, deadName),
                (OperationKind.AddEtcdLearner, spareName),
                (OperationKind.PromoteEtcdMember, spareName),
            ]), $"member changes since the kill: {Describe(changes, killedAt)}");

        // etcd itself, on a live member over TLS: the two survivors and the spare, voting, started and healthy
        var list = await SshAsync(nodes, live, EtcdctlTls + " member list");
        var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine("member list on " + live.Name + ":\n" + list);
        Assert.Equal(3, lines.Length);
        Assert.Equal([.. survivors, spareName], lines.Select(l => l.Split(", ")[2]).Order(StringComparer.Ordinal));
        Assert.All(lines, l => Assert.Equal(("started", "false"), (l.Split(", ")[1], l.Split(", ")[^1])));
        Assert.DoesNotContain(nodes.Nodes[0].Address, list, StringComparison.Ordinal);
        Assert.Contains($"https://{nodes.Nodes[3].Address}:2380", list, StringComparison.Ordinal);
        var health = await SshAsync(nodes, live, EtcdctlTls + " endpoint health --cluster");
        foreach (var node in nodes.Nodes.Skip(1))
        {
            Assert.Contains($"https://{node.Address}:2379 is healthy", health, StringComparison.Ordinal);
        }

        Assert.Equal("retired", await AgentOnNode.StateAsync(server, dead));
        var record = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/replacements")).RootElement.GetProperty("replacements")
            .EnumerateArray().Single(r => r.GetProperty("failed").GetString() == dead);
        Assert.Equal(spare, record.GetProperty("spare").GetString());
        Assert.Equal("completed", record.GetProperty("phase").GetString());

        string At(OperationKind kind) => Seconds(changes.First(c => c.Kind == kind).At - killedAt);
        var packetAt = woken.Task.IsCompletedSuccessfully ? Seconds(await woken.Task) : "not seen";
        var spareUp = booted.Task.IsCompletedSuccessfully ? Seconds(await booted.Task) : "not seen";
        output.WriteLine($"from the kill ({Seconds(stopped)} to stop the node): unreachable {Seconds(unreachable)} (limit 10 s, sweep 1 s), " +
            $"retiring {Seconds(retiring)} (replace after 3 s), magic packet {packetAt}, spare node up (SSH answers) {spareUp}, " +
            $"spare has the control-plane role {Seconds(roleTaken)}, dead machine retired {Seconds(retired)}; " +
            $"installer: dead member removed {At(OperationKind.RemoveEtcdMember)}, learner added {At(OperationKind.AddEtcdLearner)}, " +
            $"promoted {At(OperationKind.PromoteEtcdMember)}; seen converged {Seconds(done)}; test total {Seconds(total.Elapsed)}");
        Directory.Delete(discovery, recursive: true);
        _ = listener; // ends with the socket
    }

    /// <summary>The etcd member / Kubernetes node name the installer gives a machine (serial lower-cased).</summary>
    private static string NodeName(string serial) => new InventoryNode(serial, "0.0.0.0", "", new Dictionary<string, string>(), NodeState.Healthy).Name;

    private static string Seconds(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "never";

    private sealed record Member(string Name, bool Learner, bool Healthy);

    private static bool Matches(IReadOnlyList<Member> members, IReadOnlyList<string> names) =>
        members.Count == names.Count && members.All(m => m.Healthy && !m.Learner)
        && members.Select(m => m.Name).Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal));

    private static string Describe(IReadOnlyList<Member> members) =>
        "[" + string.Join(", ", members.Select(m => $"{m.Name}{(m.Learner ? " (learner)" : "")}{(m.Healthy ? "" : " (unhealthy)")}")) + "]";

    private static string Describe(IReadOnlyList<(OperationKind Kind, string Node, DateTimeOffset At)> changes, DateTimeOffset from) =>
        changes.Count == 0 ? "none" : string.Join(", ", changes.Select(c => $"{c.Kind} {c.Node} at +{(c.At - from).TotalSeconds:0.0} s"));

    /// <summary>The etcd members in the leader's latest probe round (GET /api/v1/cluster/status).</summary>
    private static async Task<IReadOnlyList<Member>> EtcdMembersAsync(BootServerInLab server)
    {
        var status = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/cluster/status")).RootElement;
        return [.. status.GetProperty("etcdMembers").EnumerateArray().Select(m =>
            new Member(m.GetProperty("name").GetString()!, m.GetProperty("learner").GetBoolean(), m.GetProperty("healthy").GetBoolean()))];
    }

    private static async Task<IReadOnlyList<OperationRecord>> HistoryAsync(BootServerInLab server) =>
        JsonSerializer.Deserialize<List<OperationRecord>>(await server.ApiAsync("GET", "/api/v1/cluster/history?limit=1000"), ApiJson)!;

    /// <summary>Successful member changes started after <paramref name="since"/>, in the order they ran.</summary>
    private static List<(OperationKind Kind, string Node, DateTimeOffset At)> MemberChanges(IReadOnlyList<OperationRecord> history, DateTimeOffset since) =>
        [.. history
            .Where(r => r.StartedAt >= since && r.Outcome == OperationOutcome.Succeeded
                && r.Kind is OperationKind.AddEtcdLearner or OperationKind.PromoteEtcdMember or OperationKind.RemoveEtcdMember)
            .OrderBy(r => r.StartedAt)
            .Select(r => (r.Kind, r.Nodes[0], r.FinishedAt))];

    private async Task<IReadOnlyList<Member>> WaitForMembersAsync(BootServerInLab server, IReadOnlyList<string> names, TimeSpan timeout, string what)
    {
        var until = Stopwatch.StartNew();
        IReadOnlyList<Member> members = [];
        while (until.Elapsed < timeout)
        {
            members = await EtcdMembersAsync(server);
            if (Matches(members, names))
            {
                return members;
            }

            await Task.Delay(1000);
        }

        await FailAsync(server, $"{what}: no {names.Count} healthy voting members {string.Join(", ", names)} after {timeout}; members {Describe(members)}");
        return members;
    }

    /// <summary>Fails with <paramref name="message"/>, the cluster status and the history; the boot server's log goes to the output.</summary>
    private async Task FailAsync(BootServerInLab server, string message)
    {
        var status = await server.ApiAsync("GET", "/api/v1/cluster/status");
        var history = await server.ApiAsync("GET", "/api/v1/cluster/history?limit=60");
        output.WriteLine("boot server log:\n" + server.Log);
        Assert.Fail($"{message}\ncluster status: {status}\nhistory (newest 60): {history}");
    }

    private static async Task<string> SshAsync(TestNodeCluster nodes, TestNode node, string command)
    {
        var (code, text) = await nodes.SshAsync(node, command);
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
        return text.Trim();
    }

    /// <summary>6 × 0xFF, then the MAC 16 times (written out here rather than taken from the product).</summary>
    private static byte[] ExpectedMagicPacket(string mac)
    {
        var address = mac.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();
        return [.. Enumerable.Repeat((byte)0xFF, 6), .. Enumerable.Range(0, 16).SelectMany(_ => address)];
    }
}
