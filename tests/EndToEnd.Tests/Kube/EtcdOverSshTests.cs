using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller;
using NekkoMetal.KubeInstaller.Execution;
using NekkoMetal.KubeInstaller.Execution.Assets;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Execution.Secrets;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.Pki;
using NekkoMetal.Pki.BuiltIn;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// Must-show 2 of issue 7: real etcd (Debian's 3.4 binary, served from a directory as the asset store, pinned by
/// SHA-256) over real SSH (SSH.NET, host keys pinned in etcd) on systemd-nspawn test nodes, driven by the
/// controller loop (probe → plan → execute) with certificates from our built-in CA (<c>kubernetes-etcd</c>):
/// bootstrap 3 members with client and peer TLS; replace a retired member (the new node joins as a learner, is
/// promoted, and only then is the old one removed); roll a configuration change one member at a time; a writer
/// keeps writing over TLS through all of it and loses nothing it was told was written. Then a node's host key
/// changes and the executor refuses to talk to it.
/// </summary>
public sealed class EtcdOverSshTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestOutputLoggerFactory _log = new(output);
    private readonly List<IAsyncDisposable> _cleanup = [];
    private Lab _lab = null!;
    private TestNodeCluster _nodes = null!;
    private EtcdServer _etcd = null!;
    private string _assets = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync(taps: 0);
        _nodes = await TestNodeCluster.StartAsync(_lab, 4, firstOctet: 40);
        _etcd = await EtcdServer.StartAsync();
        _assets = Directory.CreateTempSubdirectory("nekko-assets-").FullName;
    }

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_cleanup))
        {
            await d.DisposeAsync();
        }

        if (_nodes is not null)
        {
            await _nodes.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }

        if (_assets is not null)
        {
            Directory.Delete(_assets, recursive: true);
        }
    }

    private static InventoryNode Machine(TestNode node, NodeState state) =>
        new("SN-" + node.Name, node.Address, "cp", new Dictionary<string, string>(), state);

    private async Task<string> Ssh(TestNode node, string command)
    {
        var (code, text) = await _nodes.SshAsync(node, command);
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
        return text.Trim();
    }

    private const string EtcdctlTls =
        "ETCDCTL_API=3 etcdctl --cacert=/etc/nekko/pki/etcd/ca.crt --cert=/etc/nekko/pki/etcd/server.crt --key=/etc/nekko/pki/etcd/server.key --endpoints=https://127.0.0.1:2379";

    [Fact]
    public async Task Etcd_is_bootstrapped_with_tls_a_retired_member_is_replaced_and_a_config_change_rolls_without_losing_writes()
    {
        var total = Stopwatch.StartNew();
        var ct = CancellationToken.None;
        var time = TimeProvider.System;

        // --- the boot server's side: inventory etcd (CA, host-key pins, history), the built-in CA, the asset store
        var store = new EtcdStore(new InventoryOptions { Endpoints = [_etcd.Endpoint], Prefix = EtcdFixture.NewPrefix() });
        var pkiDir = Directory.CreateTempSubdirectory("nekko-pki-").FullName;
        using var issuer = new BuiltInCertificateIssuer(store, new PkiOptions { DataDirectory = pkiDir }, time, _log.CreateLogger<BuiltInCertificateIssuer>());
        await issuer.InitializeAsync(ct);
        var hostKeys = new EtcdHostKeyStore(store, time);
        var history = new EtcdOperationHistory(store, maxEntries: 500);

        var baseDir = await TestNodeCluster.EnsureBaseAsync();
        var etcdBinary = Path.Combine(baseDir, "usr/bin/etcd");
        var etcdVersion = (await Lab.Run(etcdBinary, "--version")).Split('\n')[0]["etcd Version:".Length..].Trim();
        const string asset = "etcd-linux-amd64";
        File.Copy(etcdBinary, Path.Combine(_assets, asset));
        var etcdSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(File.OpenRead(etcdBinary)));

        // SSH and etcd client ports of every node, reachable from this process through forwarders into the lab
        var sshPorts = new Dictionary<string, int>();
        var clientEndpoints = new List<string>();
        foreach (var node in _nodes.Nodes)
        {
            var ssh = new LabPortForwarder(_lab.Name, node.Address, 22);
            var etcdClient = new LabPortForwarder(_lab.Name, node.Address, 2379);
            _cleanup.Add(ssh);
            _cleanup.Add(etcdClient);
            sshPorts[node.Address] = ssh.Port;
            clientEndpoints.Add($"https://127.0.0.1:{etcdClient.Port}");
        }

        var sshOptions = new SshOptions
        {
            PrivateKeyPath = _nodes.PrivateKey,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            CommandTimeout = TimeSpan.FromSeconds(60),
            EndpointOf = n => ("127.0.0.1", sshPorts[n.Address]),
        };
        var pool = new NodeConnectionPool(sshOptions, hostKeys, _log.CreateLogger<NodeConnectionPool>());
        _cleanup.Add(pool);
        var executorOptions = new ExecutorOptions { HealthTimeout = TimeSpan.FromSeconds(60), PromoteTimeout = TimeSpan.FromSeconds(60) };
        var backupDir = Path.Combine(pkiDir, "backups");
        var backups = new EtcdBackupLog(store);
        var runner = new OperationRunner(pool, issuer, new DirectoryAssetSource(_assets), executorOptions, time)
        {
            BackupStore = new DirectoryBackupStore(backupDir),
            BackupLog = backups,
            ServiceAccountKeys = new ServiceAccountKeyStore(store, new SecretSealer(new PkiOptions { DataDirectory = pkiDir }), time),
        };
        var executor = new BatchExecutor(runner, history, executorOptions, time, _log.CreateLogger<BatchExecutor>());
        var prober = new ClusterProber(pool, _log.CreateLogger<ClusterProber>());
        var reconciler = new ClusterReconciler(prober, executor, time, _log.CreateLogger<ClusterReconciler>());

        // stand-in pins for the Kubernetes components (the etcd phase alone runs here; the definition must be complete)
        var fake = new string('0', 64);
        var definition = new ClusterDefinition("e2e", "1.31.0", etcdVersion, "1.7.0", 3, "10.244.0.0/16", "10.96.0.0/12", "cluster.local",
            NodeSelector.ForRole("cp"), NodeSelector.ForRole("worker"),
        [
            new BinaryPin(ClusterComponent.Etcd, etcdVersion, asset, etcdSha),
            .. Enum.GetValues<ClusterComponent>().Where(c => c != ClusterComponent.Etcd)
                .Select(c => new BinaryPin(c, c == ClusterComponent.ContainerRuntime ? "1.7.0" : "1.31.0", "stand-in-" + c.ToWire(), fake)),
        ]);

        var (a, b, c, d) = (_nodes.Nodes[0], _nodes.Nodes[1], _nodes.Nodes[2], _nodes.Nodes[3]);
        IReadOnlyList<InventoryNode> inventory = [Machine(a, NodeState.Healthy), Machine(b, NodeState.Healthy), Machine(c, NodeState.Healthy)];

        // 1. bootstrap
        var bootstrap = await reconciler.ReconcileAsync(definition, () => inventory, TimeSpan.FromMinutes(2), ClusterPhase.EtcdCluster, ct);
        _log.Write($"bootstrap: converged={bootstrap.Converged} in {bootstrap.Elapsed.TotalSeconds:0.0} s, {bootstrap.Iterations} iterations, {bootstrap.Batches.Count} batches");
        Assert.True(bootstrap.Converged, "bootstrap did not converge: " + string.Join("; ", bootstrap.LastPlan.Blockers.Concat(bootstrap.LastPlan.Operations.Select(o => o.Description))));
        var health = await Ssh(a, EtcdctlTls + " endpoint health --cluster");
        _log.Write("endpoint health: " + health.Replace('\n', ' '));
        foreach (var node in new[] { a, b, c })
        {
            Assert.Contains($"https://{node.Address}:2379 is healthy", health, StringComparison.Ordinal);
        }

        var members = await Ssh(b, EtcdctlTls + " member list");
        Assert.Equal(3, members.Split('\n').Length);
        Assert.All(members.Split('\n'), m => Assert.Contains("started", m, StringComparison.Ordinal));
        Assert.DoesNotContain("http://", members, StringComparison.Ordinal); // peer and client URLs are TLS
        // without a client certificate from our CA, etcd refuses the client
        var (plainCode, _) = await _nodes.SshAsync(a, "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --insecure-skip-tls-verify endpoint health");
        Assert.NotEqual(0, plainCode);
        var probeWatch = Stopwatch.StartNew();
        var (again, plan) = await reconciler.PlanAsync(definition, inventory, ct);
        _log.Write($"one probe of 3 nodes + etcd view: {probeWatch.Elapsed.TotalMilliseconds:0} ms");
        Assert.NotEqual(ClusterPhase.EtcdCluster, plan.Phase); // converged: nothing more for etcd
        Assert.All(again.EtcdMembers, m => Assert.True(m.Healthy && !m.IsLearner));

        // a command that overruns its timeout is cancelled; the connection stays usable
        var connection = await pool.GetAsync(inventory[1], ct);
        var timing = Stopwatch.StartNew();
        var overrun = await Assert.ThrowsAsync<RemoteCommandException>(() => connection.RunAsync("sleep 30", TimeSpan.FromSeconds(1), ct));
        Assert.True(overrun.TimedOut && timing.Elapsed < TimeSpan.FromSeconds(5), $"timeout after {timing.Elapsed}");
        Assert.True((await connection.RunAsync("true", ct: ct)).Succeeded);

        // 2. a writer through the client endpoints over mutual TLS, from now to the end
        using var writerCert = await issuer.IssueAsync(CaKind.KubernetesEtcd, new CertificateProfile { CommonName = "e2e-writer", Usage = CertificateUsage.Client }, ct);
        var ca = (await issuer.GetCaChainAsync(CaKind.KubernetesEtcd, ct))[^1];
        await using var writer = new TlsEtcdWriter(clientEndpoints, "/e2e-writer/", writerCert.Certificate, ca);
        writer.Start();

        // 2b. an etcd backup through a healthy member (while the writer writes), and the cluster's service-account key
        for (var wait = Stopwatch.StartNew(); writer.Acknowledged.Count == 0 && wait.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(50, ct); // a snapshot of a keyspace with keys (an empty one reports revision 0)
        }

        var backupWatch = Stopwatch.StartNew();
        var backupOp = new ClusterOperation(ClusterPhase.Upgrade, OperationKind.BackupEtcd, [],
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                [OperationParameters.KubernetesVersion] = "1.31.0",
                [OperationParameters.EtcdVersion] = etcdVersion,
            }), "etcd: back up");
        await runner.RunAsync(backupOp, inventory, ct);
        var backup = (await backups.ListAsync(1, ct)).Single();
        var snapshotFile = Path.Combine(backupDir, backup.Name);
        Assert.Equal(backup.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(File.OpenRead(snapshotFile))));
        Assert.Equal(new FileInfo(snapshotFile).Length, backup.Size);
        Assert.True(backup.Revision > 0);
        var snapshotStatus = await Lab.Run(Path.Combine(baseDir, "usr/bin/etcdctl"), "snapshot", "status", snapshotFile, "-w", "json");
        Assert.Equal(backup.Revision, OperationRunner.SnapshotRevision(snapshotStatus)); // a valid etcd snapshot, read here too
        Assert.Equal(new EtcdBackup("1.31.0", etcdVersion, backup.TakenAt), await backups.LastAsync(ct));
        Assert.Equal("", await Ssh(_nodes.Nodes.First(n => Machine(n, NodeState.Healthy).Name == backup.Member), $"ls -A {OperationRunner.RemoteBackupDir}"));
        const string saKey = "/etc/nekko/pki/service-account.key"; // the planner's NodeConfiguration.ServiceAccountKeyPath
        foreach (var node in new[] { b, c })
        {
            await runner.RunAsync(new ClusterOperation(ClusterPhase.Certificates, OperationKind.WriteServiceAccountKey, [Machine(node, NodeState.Healthy).Name],
                ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string> { [OperationParameters.Path] = saKey }),
                "write service-account key"), inventory, ct);
        }

        var keyOnB = await Ssh(b, $"stat -c %a {saKey} && sha256sum {saKey} | cut -d' ' -f1 && head -1 {saKey}");
        Assert.Equal(["600", await Ssh(c, $"sha256sum {saKey} | cut -d' ' -f1"), "-----BEGIN PRIVATE KEY-----"], keyOnB.Split('\n'));
        _log.Write($"etcd backup ({backup.Size} bytes, revision {backup.Revision}, via {backup.Member}) and the service-account key on 2 nodes: {backupWatch.Elapsed.TotalSeconds:0.0} s");

        // 3. node a is retired, node d is new: d joins (learner → promote) before a is removed
        inventory = [Machine(a, NodeState.Retired), Machine(b, NodeState.Healthy), Machine(c, NodeState.Healthy), Machine(d, NodeState.Healthy)];
        var historyMark = time.GetUtcNow();
        var replace = await reconciler.ReconcileAsync(definition, () => inventory, TimeSpan.FromMinutes(2), ClusterPhase.EtcdCluster, ct);
        _log.Write($"replacement: converged={replace.Converged} in {replace.Elapsed.TotalSeconds:0.0} s, {replace.Iterations} iterations, {replace.Batches.Count} batches");
        Assert.True(replace.Converged, "replacement did not converge: " + string.Join("; ", replace.LastPlan.Blockers));
        var memberOps = (await history.ListAsync(500, ct))
            .Where(r => r.StartedAt >= historyMark && r.Outcome == OperationOutcome.Succeeded
                && r.Kind is OperationKind.AddEtcdLearner or OperationKind.PromoteEtcdMember or OperationKind.RemoveEtcdMember)
            .Select(r => (r.Kind, Node: r.Nodes[0])).ToList();
        _log.Write("member changes: " + string.Join(", ", memberOps));
        Assert.Equal(
        [
            (OperationKind.AddEtcdLearner, Machine(d, NodeState.Healthy).Name),
            (OperationKind.PromoteEtcdMember, Machine(d, NodeState.Healthy).Name),
            (OperationKind.RemoveEtcdMember, Machine(a, NodeState.Retired).Name),
        ], memberOps);
        members = await Ssh(b, EtcdctlTls + " member list");
        Assert.DoesNotContain(a.Address, members, StringComparison.Ordinal);
        Assert.Contains(d.Address, members, StringComparison.Ordinal);
        Assert.Equal(3, members.Split('\n').Length);
        Assert.DoesNotContain("true", members.Split('\n').Select(l => l.Split(", ")[^1]), StringComparer.Ordinal); // no learner left

        // 4. a configuration change: every member restarted, one at a time, each waited for before the next
        var tuned = definition with
        {
            ExtraFlags = new Dictionary<ClusterComponent, IReadOnlyList<string>> { [ClusterComponent.Etcd] = ["--heartbeat-interval=150", "--election-timeout=1500"] },
        };
        var roll = await reconciler.ReconcileAsync(tuned, () => inventory, TimeSpan.FromMinutes(2), ClusterPhase.EtcdCluster, ct);
        _log.Write($"rolling restart: converged={roll.Converged} in {roll.Elapsed.TotalSeconds:0.0} s, {roll.Iterations} iterations, {roll.Batches.Count} batches");
        Assert.True(roll.Converged, "rolling restart did not converge: " + string.Join("; ", roll.LastPlan.Blockers));
        var restarts = roll.Batches.Select(x => x.Records.Where(r => r.Kind == OperationKind.RestartUnit && r.Outcome == OperationOutcome.Succeeded).Select(r => r.Nodes[0]).ToList()).ToList();
        Assert.All(restarts, r => Assert.True(r.Count <= 1, "more than one member restarted in one batch"));
        Assert.Equal(3, restarts.SelectMany(r => r).Distinct().Count());
        foreach (var node in new[] { b, c, d })
        {
            Assert.Contains("--heartbeat-interval=150", await Ssh(node, "cat /etc/systemd/system/etcd.service"), StringComparison.Ordinal);
            Assert.Contains("--heartbeat-interval=150", await Ssh(node, "tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value etcd.service)/cmdline"), StringComparison.Ordinal);
        }

        // 5. nothing acknowledged was lost
        await Task.Delay(500);
        await writer.StopAsync();
        var stored = await writer.ReadAllAsync();
        var acknowledged = writer.Acknowledged;
        var lost = acknowledged.Where(s => !stored.Contains(writer.Key(s))).ToList();
        _log.Write($"writer: {acknowledged.Count} acknowledged writes, {writer.Failures} failed attempts, longest error window {writer.LongestErrorWindow.TotalSeconds:0.00} s, lost {lost.Count}");
        Assert.True(acknowledged.Count > 100, $"the writer wrote too little ({acknowledged.Count})");
        Assert.Empty(lost);
        Assert.True(writer.LongestErrorWindow < TimeSpan.FromSeconds(15), $"writes failed for {writer.LongestErrorWindow} in a row: quorum was lost");

        // the executor's own quorum guard (against a stale plan): with member c down, removing voter b would leave d alone
        await Ssh(c, "systemctl stop etcd.service");
        var memberB = EtcdCtl.ParseMemberList(await Ssh(d, EtcdctlTls + " member list -w json")).Single(m => m.PeerUrls.Contains($"https://{b.Address}:2380"));
        var removeB = new ClusterOperation(ClusterPhase.EtcdCluster, OperationKind.RemoveEtcdMember, [Machine(b, NodeState.Healthy).Name],
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                [OperationParameters.MemberId] = memberB.HexId,
                [OperationParameters.MemberName] = memberB.Name,
                [OperationParameters.PeerUrl] = memberB.PeerUrls[0],
            }), "stale plan: remove b");
        var guard = await Assert.ThrowsAsync<OperationFailedException>(() => runner.RunAsync(removeB, inventory, ct));
        _log.Write("quorum guard: " + guard.Message);
        Assert.Contains("lose quorum", guard.Message, StringComparison.Ordinal);
        Assert.Contains(b.Address, await Ssh(d, EtcdctlTls + " member list"), StringComparison.Ordinal);
        await Ssh(c, "systemctl start etcd.service");

        // 6. a changed host key: the executor refuses the node
        await Ssh(b, "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh");
        await using var freshPool = new NodeConnectionPool(sshOptions, hostKeys, _log.CreateLogger<NodeConnectionPool>());
        var refused = await Assert.ThrowsAsync<HostKeyMismatchException>(() => freshPool.GetAsync(Machine(b, NodeState.Healthy), ct));
        _log.Write("host key change: " + refused.Message);
        var observed = await new ClusterProber(freshPool, _log.CreateLogger<ClusterProber>()).ProbeAsync(inventory, ct);
        Assert.False(observed.Nodes[Machine(b, NodeState.Healthy).Serial].Reachable);
        Assert.True(observed.Nodes[Machine(c, NodeState.Healthy).Serial].Reachable);

        _log.Write($"total {total.Elapsed.TotalSeconds:0.0} s (bootstrap {bootstrap.Elapsed.TotalSeconds:0.0} s, replacement {replace.Elapsed.TotalSeconds:0.0} s, rolling restart {roll.Elapsed.TotalSeconds:0.0} s)");
        Directory.Delete(pkiDir, recursive: true);
        store.Dispose();
    }
}
