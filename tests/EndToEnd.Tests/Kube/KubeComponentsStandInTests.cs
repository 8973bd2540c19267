using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller;
using NekkoMetal.KubeInstaller.Execution.Assets;
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
/// Must-show 3 of issue 7, with a TEST DOUBLE: no Kubernetes binaries can be obtained on this machine, so
/// <c>nekko-kube-standin</c> (tests/KubeComponentStandIn — not Kubernetes) is pinned and uploaded as every Kubernetes
/// binary and containerd. On three systemd-nspawn nodes (one control plane, two workers; every node runs a kubelet)
/// the controller loop runs the etcd (real etcd), certificate, control-plane, kubelet and Nodes phases until
/// converged. Then the test reads what each stood-in component recorded and checks, against what the real
/// component needs: every flag, every certificate (subject as Kubernetes' authenticators and RBAC expect, SANs,
/// usages, issuing CA), every kubeconfig (a valid v1 Config, server = the endpoint, the cluster CA embedded, client
/// certificate and key); that each kubeconfig really reached the API server over mutual TLS (the double's
/// apiserver records every identity that authenticated); that the apiserver's kubelet client certificate is
/// accepted by every kubelet and anonymous requests are not. Last the Nodes phase: role labels, an uncordon, and a
/// departed worker cordoned, drained, stopped and deleted through the API. What this does not prove: that the real
/// binaries run with these flags on real machines (README.md).
/// </summary>
public sealed class KubeComponentsStandInTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string KubernetesVersion = "1.31.0";
    private const string ContainerdVersion = "1.7.0";
    private const string Endpoint = "https://api.standin.lab:6443";
    private const string Pki = "/etc/nekko/pki";
    private const string Kubeconfigs = "/etc/nekko/kubeconfig";

    private readonly TestOutputLoggerFactory _log = new(output);
    private readonly List<IAsyncDisposable> _cleanup = [];
    private Lab _lab = null!;
    private TestNodeCluster _nodes = null!;
    private EtcdServer _etcd = null!;
    private string _assets = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync(taps: 0);
        _nodes = await TestNodeCluster.StartAsync(_lab, 3, firstOctet: 50);
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

    private static InventoryNode Machine(TestNode node, string role, NodeState state = NodeState.Healthy) =>
        new("SN-" + node.Name, node.Address, role, new Dictionary<string, string>(), state);

    private async Task<string> Ssh(TestNode node, string command)
    {
        var (code, text) = await _nodes.SshAsync(node, command);
        Assert.True(code == 0, $"'{command}' on {node.Name} failed ({code}): {text}");
        return text.Trim();
    }

    private static JsonNode Record(TestNode node, string component)
    {
        var path = Path.Combine(node.Root, "var/lib/nekko-standin", component + ".json");
        Assert.True(File.Exists(path), $"{node.Name}: the stand-in {component} wrote no record");
        return JsonNode.Parse(File.ReadAllText(path))!;
    }

    private static X509Certificate2 Cert(TestNode node, string path) => X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(node.Root, path.TrimStart('/'))));

    private static string Text(TestNode node, string path) => File.ReadAllText(Path.Combine(node.Root, path.TrimStart('/')));

    [Fact]
    public async Task Control_plane_and_kubelets_get_every_flag_certificate_and_kubeconfig_a_real_component_needs()
    {
        var total = Stopwatch.StartNew();
        var ct = CancellationToken.None;
        var time = TimeProvider.System;

        // --- the boot server's side: inventory etcd (CA, pins, service-account key, history), the built-in CA, assets
        var store = new EtcdStore(new InventoryOptions { Endpoints = [_etcd.Endpoint], Prefix = EtcdFixture.NewPrefix() });
        var pkiDir = Directory.CreateTempSubdirectory("nekko-pki-").FullName;
        var pkiOptions = new PkiOptions { DataDirectory = pkiDir };
        using var issuer = new BuiltInCertificateIssuer(store, pkiOptions, time, _log.CreateLogger<BuiltInCertificateIssuer>());
        await issuer.InitializeAsync(ct);
        var history = new EtcdOperationHistory(store, maxEntries: 1000);

        var publish = Stopwatch.StartNew();
        var standIn = await StandInBinary.GetAsync(KubernetesVersion, ContainerdVersion);
        _log.Write($"stand-in binary ready in {publish.Elapsed.TotalSeconds:0.0} s ({new FileInfo(standIn).Length / 1_000_000} MB)");
        var standInSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(File.OpenRead(standIn)));
        var baseDir = await TestNodeCluster.EnsureBaseAsync();
        var etcdBinary = Path.Combine(baseDir, "usr/bin/etcd");
        var etcdVersion = (await Lab.Run(etcdBinary, "--version")).Split('\n')[0]["etcd Version:".Length..].Trim();
        File.Copy(etcdBinary, Path.Combine(_assets, "etcd"));
        var etcdSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(File.OpenRead(etcdBinary)));
        var pins = new List<BinaryPin> { new(ClusterComponent.Etcd, etcdVersion, "etcd", etcdSha) };
        foreach (var component in Enum.GetValues<ClusterComponent>().Where(c => c != ClusterComponent.Etcd))
        {
            // the same double under every name: it is the component it is installed as
            var asset = "nekko-kube-standin-as-" + component.ToWire();
            File.Copy(standIn, Path.Combine(_assets, asset));
            pins.Add(new BinaryPin(component, component == ClusterComponent.ContainerRuntime ? ContainerdVersion : KubernetesVersion, asset, standInSha));
        }

        var sshPorts = new Dictionary<string, int>();
        foreach (var node in _nodes.Nodes)
        {
            var ssh = new LabPortForwarder(_lab.Name, node.Address, 22);
            _cleanup.Add(ssh);
            sshPorts[node.Address] = ssh.Port;
        }

        var sshOptions = new SshOptions
        {
            PrivateKeyPath = _nodes.PrivateKey,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            CommandTimeout = TimeSpan.FromSeconds(60),
            EndpointOf = n => ("127.0.0.1", sshPorts[n.Address]),
        };
        var pool = new NodeConnectionPool(sshOptions, new EtcdHostKeyStore(store, time), _log.CreateLogger<NodeConnectionPool>());
        _cleanup.Add(pool);
        var executorOptions = new ExecutorOptions { HealthTimeout = TimeSpan.FromSeconds(45), Parallelism = 3 };
        var runner = new OperationRunner(pool, issuer, new DirectoryAssetSource(_assets), executorOptions, time)
        {
            ServiceAccountKeys = new ServiceAccountKeyStore(store, new SecretSealer(pkiOptions), time),
        };
        var executor = new BatchExecutor(runner, history, executorOptions, time, _log.CreateLogger<BatchExecutor>());
        var prober = new ClusterProber(pool, _log.CreateLogger<ClusterProber>());
        var reconciler = new ClusterReconciler(prober, executor, time, _log.CreateLogger<ClusterReconciler>());

        var (a, b, c) = (_nodes.Nodes[0], _nodes.Nodes[1], _nodes.Nodes[2]);
        // the control-plane endpoint is a DNS name the user provides (here: /etc/hosts on every node → the control-plane node)
        foreach (var node in _nodes.Nodes)
        {
            await Ssh(node, $"echo '{a.Address} api.standin.lab' >> /etc/hosts");
        }

        var definition = new ClusterDefinition("standin", KubernetesVersion, etcdVersion, ContainerdVersion, 1, "10.244.0.0/16", "10.96.0.0/12", "cluster.local",
            NodeSelector.ForRole("cp"), NodeSelector.ForRole("worker"), pins)
        {
            ControlPlaneEndpoint = Endpoint,
        };
        IReadOnlyList<InventoryNode> inventory = [Machine(a, "cp"), Machine(b, "worker"), Machine(c, "worker")];
        var names = inventory.ToDictionary(n => n.Address, n => n.Name);
        string NameOf(TestNode node) => names[node.Address];

        // 1. install: etcd, certificates, control plane, kubelets, Nodes (labels) until converged
        var install = await reconciler.ReconcileAsync(definition, () => inventory, TimeSpan.FromMinutes(5), ClusterPhase.Upgrade, ct);
        _log.Write($"install: converged={install.Converged} in {install.Elapsed.TotalSeconds:0.0} s, {install.Iterations} iterations, "
            + string.Join(", ", install.Batches.Select(x => $"{(x.Records.Count > 0 ? x.Records[0].Phase : null)}:{x.Records.Count}{(x.Succeeded ? "" : " FAILED")}")));
        if (!install.Converged)
        {
            foreach (var node in _nodes.Nodes)
            {
                _log.Write($"{node.Name} journal: " + (await _nodes.SshAsync(node, "journalctl --no-pager -n 40 -u 'kube*' -u containerd")).Output);
            }
        }

        Assert.True(install.Converged, "install did not converge: " + string.Join("; ", install.LastPlan.Blockers
            .Concat(install.LastPlan.Operations.Select(o => o.Description))
            .Concat(install.Batches.SelectMany(x => x.Records).Where(r => r.Error is not null).Select(r => r.Description + ": " + r.Error).TakeLast(5))));

        // 2. what the prober sees: every component healthy at its pinned version, the API ready, three Nodes with role labels
        var (observed, plan) = await reconciler.PlanAsync(definition, inventory, ct);
        Assert.True(plan.IsConverged);
        Assert.True(observed.ApiServerReady);
        foreach (var machine in inventory)
        {
            var probe = observed.Nodes[machine.Serial];
            var expected = machine.Role == "cp"
                ? [.. ClusterComponents.ControlPlane, .. ClusterComponents.Node]
                : ClusterComponents.Node;
            foreach (var component in expected)
            {
                Assert.True(probe.Units[component.UnitName()].Healthy, $"{machine.Name}: {component.ToWire()} not healthy");
                Assert.Equal(definition.VersionOf(component), probe.Versions[component]);
            }

            var kubeNode = observed.KubernetesNodes[machine.Name];
            Assert.True(kubeNode.Ready);
            Assert.True(kubeNode.Labels.ContainsKey(machine.Role == "cp" ? "node-role.kubernetes.io/control-plane" : "node-role.kubernetes.io/worker"),
                $"{machine.Name}: role label missing: {string.Join(", ", kubeNode.Labels.Keys)}");
        }

        // 3. every flag, certificate and kubeconfig, checked against what the real components need
        var checks = new KubeCredentialChecks(time.GetUtcNow());
        using var kubernetesCa = (await issuer.GetCaChainAsync(CaKind.Kubernetes, ct))[^1];
        using var etcdCa = (await issuer.GetCaChainAsync(CaKind.KubernetesEtcd, ct))[^1];
        var cp = NameOf(a);

        // the double's apiserver dials each registered kubelet every 2 s: give a loaded machine a moment to record them all
        var apiserver = Record(a, "kube-apiserver");
        for (var i = 0; i < 20 && apiserver["checks"]!.AsArray().Count(x => x!.GetValue<string>().StartsWith("reached kubelet", StringComparison.Ordinal)) < _nodes.Nodes.Count; i++)
        {
            await Task.Delay(1000);
            apiserver = Record(a, "kube-apiserver");
        }

        checks.Flags("kube-apiserver", apiserver, new Dictionary<string, string?>
        {
            ["advertise-address"] = a.Address,
            ["secure-port"] = "6443",
            ["etcd-servers"] = $"https://{a.Address}:2379",
            ["etcd-cafile"] = $"{Pki}/etcd/ca.crt",
            ["etcd-certfile"] = $"{Pki}/apiserver-etcd-client.crt",
            ["etcd-keyfile"] = $"{Pki}/apiserver-etcd-client.key",
            ["client-ca-file"] = $"{Pki}/ca.crt",
            ["tls-cert-file"] = $"{Pki}/apiserver.crt",
            ["tls-private-key-file"] = $"{Pki}/apiserver.key",
            ["kubelet-client-certificate"] = $"{Pki}/apiserver-kubelet-client.crt",
            ["kubelet-client-key"] = $"{Pki}/apiserver-kubelet-client.key",
            ["service-cluster-ip-range"] = "10.96.0.0/12",
            ["service-account-issuer"] = "https://kubernetes.default.svc.cluster.local",
            ["service-account-key-file"] = $"{Pki}/service-account.key",
            ["service-account-signing-key-file"] = $"{Pki}/service-account.key",
            ["authorization-mode"] = "~Node",
            ["enable-admission-plugins"] = "~NodeRestriction",
            // Node names are machine serials no DNS resolves: logs, exec and port-forward must dial the InternalIP,
            // and the kubelet's serving certificate (issued by the cluster CA for that IP) can be verified
            ["kubelet-preferred-address-types"] = "InternalIP,ExternalIP,Hostname",
            ["kubelet-certificate-authority"] = $"{Pki}/ca.crt",
        });
        Assert.Equal(Cert(a, $"{Pki}/ca.crt").RawData, kubernetesCa.RawData);
        Assert.Equal(Cert(a, $"{Pki}/etcd/ca.crt").RawData, etcdCa.RawData);
        checks.Certificate("apiserver serving certificate", Cert(a, $"{Pki}/apiserver.crt"), kubernetesCa, "kube-apiserver", [], [KubeCredentialChecks.ServerAuth],
            ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", cp, "api.standin.lab", "localhost"],
            ["10.96.0.1", a.Address, "127.0.0.1"]);
        checks.Certificate("apiserver etcd client certificate", Cert(a, $"{Pki}/apiserver-etcd-client.crt"), etcdCa, "kube-apiserver-etcd-client", [], [KubeCredentialChecks.ClientAuth]);
        checks.Certificate("apiserver kubelet client certificate", Cert(a, $"{Pki}/apiserver-kubelet-client.crt"), kubernetesCa, "kube-apiserver-kubelet-client",
            ["system:masters"], [KubeCredentialChecks.ClientAuth]);
        checks.Certificate("etcd server certificate", Cert(a, $"{Pki}/etcd/server.crt"), etcdCa, cp, [], [KubeCredentialChecks.ServerAuth, KubeCredentialChecks.ClientAuth],
            [cp, "localhost"], [a.Address, "127.0.0.1"]);
        checks.Kubeconfig("admin.conf", Text(a, $"{Kubeconfigs}/admin.conf"), kubernetesCa, "https://127.0.0.1:6443", "admin", ["system:masters"]);

        var controllerManager = Record(a, "kube-controller-manager");
        checks.Flags("kube-controller-manager", controllerManager, new Dictionary<string, string?>
        {
            ["kubeconfig"] = $"{Kubeconfigs}/controller-manager.conf",
            ["authentication-kubeconfig"] = $"{Kubeconfigs}/controller-manager.conf",
            ["authorization-kubeconfig"] = $"{Kubeconfigs}/controller-manager.conf",
            ["root-ca-file"] = $"{Pki}/ca.crt",
            ["service-account-private-key-file"] = $"{Pki}/service-account.key",
            ["use-service-account-credentials"] = "true",
            ["allocate-node-cidrs"] = "true",
            ["cluster-cidr"] = "10.244.0.0/16",
            ["service-cluster-ip-range"] = "10.96.0.0/12",
            ["leader-elect"] = "true",
        });
        checks.Kubeconfig("controller-manager.conf", Text(a, $"{Kubeconfigs}/controller-manager.conf"), kubernetesCa, "https://127.0.0.1:6443", "system:kube-controller-manager", []);
        var scheduler = Record(a, "kube-scheduler");
        checks.Flags("kube-scheduler", scheduler, new Dictionary<string, string?>
        {
            ["kubeconfig"] = $"{Kubeconfigs}/scheduler.conf",
            ["authentication-kubeconfig"] = $"{Kubeconfigs}/scheduler.conf",
            ["authorization-kubeconfig"] = $"{Kubeconfigs}/scheduler.conf",
            ["leader-elect"] = "true",
        });
        checks.Kubeconfig("scheduler.conf", Text(a, $"{Kubeconfigs}/scheduler.conf"), kubernetesCa, "https://127.0.0.1:6443", "system:kube-scheduler", []);

        foreach (var node in _nodes.Nodes)
        {
            var name = NameOf(node);
            checks.Flags($"{name} kubelet", Record(node, "kubelet"), new Dictionary<string, string?>
            {
                ["kubeconfig"] = $"{Kubeconfigs}/kubelet.conf",
                ["hostname-override"] = name,
                ["node-ip"] = node.Address,
                ["container-runtime-endpoint"] = "unix:///run/containerd/containerd.sock",
                ["cluster-dns"] = "10.96.0.10",
                ["cluster-domain"] = "cluster.local",
                ["client-ca-file"] = $"{Pki}/ca.crt",
                ["tls-cert-file"] = $"{Pki}/kubelet.crt",
                ["tls-private-key-file"] = $"{Pki}/kubelet.key",
                ["anonymous-auth"] = "false",
                ["authorization-mode"] = "Webhook",
            });
            checks.Certificate($"{name} kubelet serving certificate", Cert(node, $"{Pki}/kubelet.crt"), kubernetesCa, name, [], [KubeCredentialChecks.ServerAuth],
                [name], [node.Address]);
            checks.Kubeconfig($"{name} kubelet.conf", Text(node, $"{Kubeconfigs}/kubelet.conf"), kubernetesCa, Endpoint, $"system:node:{name}", ["system:nodes"]);
            checks.Flags($"{name} kube-proxy", Record(node, "kube-proxy"), new Dictionary<string, string?>
            {
                ["kubeconfig"] = $"{Kubeconfigs}/kube-proxy.conf",
                ["hostname-override"] = name,
                ["cluster-cidr"] = "10.244.0.0/16",
            });
            checks.Kubeconfig($"{name} kube-proxy.conf", Text(node, $"{Kubeconfigs}/kube-proxy.conf"), kubernetesCa, Endpoint, "system:kube-proxy", []);
            checks.Flags($"{name} containerd", Record(node, "containerd"), new Dictionary<string, string?>());
        }

        // every kubeconfig reached the API server over mutual TLS as the identity Kubernetes' RBAC defaults bind
        var clients = apiserver["apiClients"]!.AsObject();
        var expectedClients = new Dictionary<string, string[]>
        {
            ["system:kube-controller-manager"] = [],
            ["system:kube-scheduler"] = [],
            ["system:kube-proxy"] = [],
            ["admin"] = ["system:masters"],
        };
        foreach (var node in _nodes.Nodes)
        {
            expectedClients[$"system:node:{NameOf(node)}"] = ["system:nodes"];
        }

        foreach (var (user, groups) in expectedClients)
        {
            if (clients[user] is not { } seen)
            {
                checks.Problems.Add($"kube-apiserver: no client authenticated as {user} (seen: {string.Join(", ", clients.Select(x => x.Key))})");
            }
            else if (!seen["groups"]!.AsArray().Select(g => g!.GetValue<string>()).SequenceEqual(groups))
            {
                checks.Problems.Add($"kube-apiserver: {user} came with groups {seen["groups"]!.ToJsonString()}, expected [{string.Join(", ", groups)}]");
            }
        }

        Assert.Contains(apiserver["checks"]!.AsArray(), x => x!.GetValue<string>().StartsWith("etcd answered /health over mutual TLS", StringComparison.Ordinal));
        foreach (var node in _nodes.Nodes)
        {
            // the apiserver double dials each kubelet as the real one does for logs and exec (preferred address type, client certificate)
            var dialed = $"reached kubelet {NameOf(node)} at {node.Address}:10250 with --kubelet-client-certificate, its serving certificate verified";
            if (!apiserver["checks"]!.AsArray().Any(x => x!.GetValue<string>().StartsWith(dialed, StringComparison.Ordinal)))
            {
                checks.Problems.Add($"kube-apiserver: {dialed.Replace("reached", "did not reach", StringComparison.Ordinal)} ({apiserver["status"]?[$"kubelet {NameOf(node)}"]})");
            }
        }

        foreach (var node in _nodes.Nodes)
        {
            Assert.Contains(Record(node, "kubelet")["checks"]!.AsArray(), x => x!.GetValue<string>().StartsWith($"registered Node {NameOf(node)} through {Endpoint}", StringComparison.Ordinal));
        }

        _log.Write($"credential checks: {checks.Problems.Count} problem(s)\n  " + string.Join("\n  ", checks.Problems));
        Assert.Empty(checks.Problems);

        // the apiserver's kubelet client certificate is accepted by every kubelet (the kubelet's serving certificate
        // verified against the cluster CA for the node's address); anonymous requests are refused
        foreach (var node in _nodes.Nodes)
        {
            var code = await Ssh(a, $"curl -s -o /dev/null -w '%{{http_code}}' --cacert {Pki}/ca.crt --cert {Pki}/apiserver-kubelet-client.crt --key {Pki}/apiserver-kubelet-client.key https://{node.Address}:10250/pods");
            Assert.True(code == "200", $"{NameOf(node)}: kubelet answered {code} to the apiserver's kubelet client certificate");
            var (anonCode, anon) = await _nodes.SshAsync(a, $"curl -s -o /dev/null -w '%{{http_code}}' --cacert {Pki}/ca.crt https://{node.Address}:10250/pods");
            Assert.True(anonCode != 0 || anon.Trim() is "401" or "403", $"{NameOf(node)}: kubelet let an anonymous client in ({anon})");
        }

        // the double refuses what the real kubelet would: a private key that does not match its certificate
        var keyPath = Path.Combine(b.Root, $"{Pki}/kubelet.key".TrimStart('/'));
        var originalKey = await File.ReadAllBytesAsync(keyPath);
        using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            await File.WriteAllTextAsync(keyPath, stranger.ExportPkcs8PrivateKeyPem());
        }

        await Ssh(b, "systemctl restart kubelet.service || true");
        string? fatal = null;
        for (var i = 0; i < 50 && fatal is null; i++)
        {
            await Task.Delay(200);
            fatal = Record(b, "kubelet")["fatal"]?.GetValue<string>();
        }

        _log.Write("kubelet with a foreign key: " + fatal);
        Assert.Contains("private key does not match", fatal ?? "(no fatal error recorded)", StringComparison.Ordinal);
        await File.WriteAllBytesAsync(keyPath, originalKey);
        await Ssh(b, "systemctl restart kubelet.service");

        // 4. the Nodes phase through the API: an uncordon of what the installer cordoned, then a departed worker
        await Ssh(a, KubernetesApi.Request("PATCH", KubernetesApi.NodePath(NameOf(b)), KubernetesApi.CordonPatch()));
        var mark = time.GetUtcNow();
        var uncordon = await reconciler.ReconcileAsync(definition, () => inventory, TimeSpan.FromMinutes(1), ClusterPhase.Upgrade, ct);
        Assert.True(uncordon.Converged, "uncordon did not converge: " + string.Join("; ", uncordon.LastPlan.Blockers));
        Assert.Contains(uncordon.Batches.SelectMany(x => x.Records), r => r.Kind == OperationKind.UncordonNode && r.Nodes[0] == NameOf(b) && r.Outcome == OperationOutcome.Succeeded);

        inventory = [Machine(a, "cp"), Machine(b, "worker"), Machine(c, "worker", NodeState.Retired)];
        var removal = await reconciler.ReconcileAsync(definition, () => inventory, TimeSpan.FromMinutes(2), ClusterPhase.Upgrade, ct);
        _log.Write($"departed worker: converged={removal.Converged} in {removal.Elapsed.TotalSeconds:0.0} s");
        Assert.True(removal.Converged, "removal did not converge: " + string.Join("; ", removal.LastPlan.Blockers.Concat(removal.LastPlan.Operations.Select(o => o.Description))));
        var removalOps = (await history.ListAsync(1000, ct))
            .Where(r => r.StartedAt >= mark && r.Outcome == OperationOutcome.Succeeded && r.Nodes.Contains(NameOf(c)))
            .OrderBy(r => r.StartedAt).Select(r => r.Kind).ToList();
        _log.Write("departed worker operations: " + string.Join(", ", removalOps));
        int First(OperationKind kind) => removalOps.IndexOf(kind);
        Assert.True(First(OperationKind.CordonNode) >= 0 && First(OperationKind.CordonNode) < First(OperationKind.DrainNode)
            && First(OperationKind.DrainNode) < First(OperationKind.StopUnits) && First(OperationKind.StopUnits) < First(OperationKind.DeleteNode),
            "expected cordon, drain, stop kubelet, delete Node in this order: " + string.Join(", ", removalOps));
        var (after, _) = await reconciler.PlanAsync(definition, inventory, ct);
        Assert.Equal([NameOf(a), NameOf(b)], after.KubernetesNodes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("inactive", (await _nodes.SshAsync(c, "systemctl is-active kubelet.service")).Output.Trim());

        _log.Write($"total {total.Elapsed.TotalSeconds:0.0} s (install {install.Elapsed.TotalSeconds:0.0} s, removal {removal.Elapsed.TotalSeconds:0.0} s)");
        Directory.Delete(pkiDir, recursive: true);
        store.Dispose();
    }
}
