using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NekkoMetal.KubeInstaller.Execution.Assets;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.Pki;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>Runs one operation (the SSH executor below; a fake in unit tests).</summary>
public interface IOperationRunner
{
    Task RunAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct);
}

/// <summary>
/// Carries out one <see cref="ClusterOperation"/> on its node(s), as the table in src/KubeInstaller/README.md says.
/// Every operation is idempotent. etcd member changes run <c>etcdctl</c> over SSH on a healthy voting member.
/// Kubernetes API operations (cordon, drain, label, delete Node) are not built yet and fail clearly. Backups and the
/// service-account key: the partial files beside this one.
/// </summary>
public sealed partial class OperationRunner(
    NodeConnectionPool connections,
    ICertificateIssuer issuer,
    IAssetSource assets,
    ExecutorOptions options,
    TimeProvider time) : IOperationRunner
{
    public async Task RunAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(op);
        switch (op.Kind)
        {
            case OperationKind.IssueCertificate:
                await IssueCertificateAsync(op, await OnAsync(op, inventory, ct), ct);
                break;
            case OperationKind.IssueKubeconfig:
                await IssueKubeconfigAsync(op, await OnAsync(op, inventory, ct), ct);
                break;
            case OperationKind.WriteBinary:
                {
                    var node = await OnAsync(op, inventory, ct);
                    await using var stream = await assets.OpenAsync(Required(op, P.AssetName), ct);
                    await node.UploadAsync(stream, Required(op, P.Path), Required(op, P.Sha256), Convert.ToInt32("755", 8), ct);
                    break;
                }

            case OperationKind.WriteEtcdInitialCluster:
                {
                    var node = await OnAsync(op, inventory, ct);
                    var content = $"ETCD_INITIAL_CLUSTER={Required(op, P.InitialCluster)}\nETCD_INITIAL_CLUSTER_STATE={Required(op, P.InitialClusterState)}\n";
                    await node.WriteFileAsync(Required(op, P.Path), Encoding.UTF8.GetBytes(content), Convert.ToInt32("644", 8), ct);
                    break;
                }

            case OperationKind.WriteUnit:
                {
                    var node = await OnAsync(op, inventory, ct);
                    var content = Required(op, P.Content);
                    if (NodeConfiguration.Sha256Hex(content) != Required(op, P.ContentSha256))
                    {
                        throw new OperationFailedException($"{op.Description}: content does not match its contentSha256");
                    }

                    await node.WriteFileAsync(Required(op, P.Path), Encoding.UTF8.GetBytes(content), Convert.ToInt32("644", 8), ct);
                    // enable only when not yet enabled: where a SysV script of the same name exists (Debian's etcd
                    // package ships /etc/init.d/etcd), enable runs update-rc.d, which takes seconds
                    var unit = ShellQuoting.Quote(Required(op, P.Unit));
                    await node.RunCheckedAsync($"systemctl daemon-reload && {{ systemctl is-enabled --quiet {unit} || systemctl enable {unit}; }}", ct: ct);
                    break;
                }

            case OperationKind.StartUnit:
                await (await OnAsync(op, inventory, ct)).RunCheckedAsync("systemctl start " + ShellQuoting.Quote(Required(op, P.Unit)), ct: ct);
                break;
            case OperationKind.RestartUnit:
                await (await OnAsync(op, inventory, ct)).RunCheckedAsync("systemctl restart " + ShellQuoting.Quote(Required(op, P.Unit)), ct: ct);
                break;
            case OperationKind.StopUnits:
                {
                    var units = Required(op, P.Units).Split(',', StringSplitOptions.RemoveEmptyEntries);
                    // idempotent: a unit that is not installed is already stopped
                    var script = string.Join("; ", units.Select(u =>
                        $"if systemctl cat {ShellQuoting.Quote(u)} >/dev/null 2>&1; then systemctl disable --now {ShellQuoting.Quote(u)} || exit 1; fi"));
                    await (await OnAsync(op, inventory, ct)).RunCheckedAsync(script, ct: ct);
                    break;
                }

            case OperationKind.WaitHealthy:
                await WaitHealthyAsync(op, NodeOf(op, inventory), ct);
                break;
            case OperationKind.AddEtcdLearner:
                await AddLearnerAsync(op, inventory, ct);
                break;
            case OperationKind.PromoteEtcdMember:
                await PromoteAsync(op, inventory, ct);
                break;
            case OperationKind.RemoveEtcdMember:
                await RemoveAsync(op, inventory, ct);
                break;
            case OperationKind.BackupEtcd:
                await BackupEtcdAsync(op, inventory, ct); // OperationRunner.Backup.cs
                break;
            case OperationKind.WriteServiceAccountKey:
                await WriteServiceAccountKeyAsync(op, await OnAsync(op, inventory, ct), ct); // OperationRunner.ServiceAccount.cs
                break;
            case OperationKind.CordonNode:
            case OperationKind.DrainNode:
            case OperationKind.UncordonNode:
            case OperationKind.DeleteNode:
            case OperationKind.LabelNode:
                await new KubernetesApiOperations(connections, options, time).RunAsync(op, inventory, ct); // KubernetesApiOperations.cs
                break;
            default:
                throw new OperationFailedException($"{op.Description}: {op.Kind} is not built yet in this executor");
        }
    }

    private static string Required(ClusterOperation op, string parameter) =>
        op[parameter] ?? throw new OperationFailedException($"{op.Description}: parameter '{parameter}' missing");

    private static InventoryNode NodeOf(ClusterOperation op, IReadOnlyList<InventoryNode> inventory) =>
        op.Nodes.Length == 1 && inventory.FirstOrDefault(n => n.Name == op.Nodes[0]) is { } node
            ? node
            : throw new OperationFailedException($"{op.Description}: node {string.Join(",", op.Nodes)} not in the inventory");

    private async Task<NodeConnection> OnAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct) =>
        await connections.GetAsync(NodeOf(op, inventory), ct);

    // ---- certificates ----------------------------------------------------------------------------------------

    private static CaKind CaOf(ClusterOperation op) =>
        CaKinds.TryParse(Required(op, P.Ca), out var ca) && ca is CaKind.Kubernetes or CaKind.KubernetesEtcd
            ? ca
            : throw new OperationFailedException($"{op.Description}: unknown CA '{op[P.Ca]}'");

    /// <summary>The profile an operation asks for: IP addresses among the SANs become IP SANs, the rest DNS names.</summary>
    public static CertificateProfile ProfileOf(ClusterOperation op, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(op);
        var sans = (op[P.SubjectAltNames] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new CertificateProfile
        {
            CommonName = Required(op, P.CommonName),
            Organizations = op[P.Organization] is { Length: > 0 } org ? [org] : [],
            DnsNames = [.. sans.Where(s => !IPAddress.TryParse(s, out _))],
            IpAddresses = [.. sans.Select(s => IPAddress.TryParse(s, out var ip) ? ip : null).OfType<IPAddress>()],
            Usage = Required(op, P.Usage) switch
            {
                "server" => CertificateUsage.Server,
                "client" => CertificateUsage.Client,
                "server,client" or "client,server" => CertificateUsage.ServerAndClient,
                var u => throw new OperationFailedException($"{op.Description}: unknown usage '{u}'"),
            },
            Lifetime = lifetime,
        };
    }

    /// <summary>Where the units expect the CA certificate of <paramref name="ca"/>.</summary>
    public static string CaPath(CaKind ca) => ca == CaKind.KubernetesEtcd ? NodeConfiguration.PkiDir + "/etcd/ca.crt" : NodeConfiguration.PkiDir + "/ca.crt";

    public static string KeyPath(string certificatePath) => Path.ChangeExtension(certificatePath, ".key");

    private async Task IssueCertificateAsync(ClusterOperation op, NodeConnection node, CancellationToken ct)
    {
        var ca = CaOf(op);
        var path = Required(op, P.Path);
        using var issued = await issuer.IssueAsync(ca, ProfileOf(op, options.CertificateLifetime), ct);
        await WriteCaAsync(node, ca, ct);
        await node.WriteFileAsync(KeyPath(path), Encoding.ASCII.GetBytes(PrivateKeyPem(issued.Certificate)), Convert.ToInt32("600", 8), ct);
        await node.WriteFileAsync(path, Encoding.ASCII.GetBytes(issued.CertificatePem()), Convert.ToInt32("644", 8), ct);
    }

    private async Task IssueKubeconfigAsync(ClusterOperation op, NodeConnection node, CancellationToken ct)
    {
        var ca = CaOf(op);
        using var issued = await issuer.IssueAsync(ca, ProfileOf(op, options.CertificateLifetime), ct);
        var caPem = await CaPemAsync(ca, ct);
        await WriteCaAsync(node, ca, ct);
        var yaml = Kubeconfig.Render(node.Node.Name, Required(op, P.Server), Required(op, P.CommonName), caPem, issued.CertificatePem(), PrivateKeyPem(issued.Certificate));
        await node.WriteFileAsync(Required(op, P.Path), Encoding.UTF8.GetBytes(yaml), Convert.ToInt32("600", 8), ct);
    }

    private async Task<string> CaPemAsync(CaKind ca, CancellationToken ct)
    {
        var chain = await issuer.GetCaChainAsync(ca, ct);
        try
        {
            return chain[^1].ExportCertificatePem() + "\n";
        }
        finally
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }
        }
    }

    private async Task WriteCaAsync(NodeConnection node, CaKind ca, CancellationToken ct) =>
        await node.WriteFileAsync(CaPath(ca), Encoding.ASCII.GetBytes(await CaPemAsync(ca, ct)), Convert.ToInt32("644", 8), ct);

    private static string PrivateKeyPem(X509Certificate2 certificate)
    {
        using ECDsa? ec = certificate.GetECDsaPrivateKey();
        if (ec is not null)
        {
            return ec.ExportPkcs8PrivateKeyPem() + "\n";
        }

        using var rsa = certificate.GetRSAPrivateKey() ?? throw new OperationFailedException("the issuer returned a certificate without its private key");
        return rsa.ExportPkcs8PrivateKeyPem() + "\n";
    }

    // ---- health ------------------------------------------------------------------------------------------------

    private async Task WaitHealthyAsync(ClusterOperation op, InventoryNode target, CancellationToken ct)
    {
        var component = Enum.GetValues<ClusterComponent>().FirstOrDefault(c => c.ToWire() == Required(op, P.Component));
        var deadline = time.GetUtcNow() + options.HealthTimeout;
        string last = "";
        while (true)
        {
            bool healthy;
            string detail;
            try
            {
                var node = await connections.GetAsync(target, ct);
                (healthy, detail) = component == ClusterComponent.Etcd
                    ? await EtcdLocalHealthAsync(node, ct)
                    : await HttpHealthAsync(node, component, ct);
            }
            catch (KubeExecutionException e) when (e.IsTransient)
            {
                (healthy, detail) = (false, e.Message); // a check that timed out, a node restarting: poll on
                if (e is NodeUnreachableException)
                {
                    await connections.DropAsync(target.Serial);
                }
            }

            if (healthy)
            {
                return;
            }

            last = detail;
            if (time.GetUtcNow() >= deadline)
            {
                throw new OperationFailedException($"{op.Description}: not healthy after {options.HealthTimeout.TotalSeconds:0} s: {last}", transient: true);
            }

            await Task.Delay(options.HealthPollInterval, time, ct);
        }
    }

    /// <summary>A voting member: <c>endpoint health</c>; a learner (which serves no reads): <c>endpoint status</c> answers.</summary>
    internal static async Task<(bool Healthy, string Detail)> EtcdLocalHealthAsync(NodeConnection node, CancellationToken ct)
    {
        var status = await node.RunAsync(EtcdCtl.Local("endpoint", "status", "-w", "json"), TimeSpan.FromSeconds(10), ct);
        if (!status.Succeeded)
        {
            return (false, status.Error.Trim());
        }

        if (EtcdCtl.ParseStatus(status.Output) is [{ IsLearner: true }])
        {
            return (true, "learner answers");
        }

        var health = await node.RunAsync(EtcdCtl.Local("endpoint", "health"), TimeSpan.FromSeconds(10), ct);
        return (health.Succeeded, (health.Output + health.Error).Trim());
    }

    private static async Task<(bool, string)> HttpHealthAsync(NodeConnection node, ClusterComponent component, CancellationToken ct)
    {
        var url = component switch
        {
            ClusterComponent.KubeApiserver => "https://127.0.0.1:6443/readyz",
            ClusterComponent.KubeControllerManager => "https://127.0.0.1:10257/healthz",
            ClusterComponent.KubeScheduler => "https://127.0.0.1:10259/healthz",
            ClusterComponent.Kubelet => "http://127.0.0.1:10248/healthz",
            ClusterComponent.KubeProxy => "http://127.0.0.1:10256/healthz",
            _ => null,
        };
        var command = url is null
            ? "systemctl is-active " + ShellQuoting.Quote(component.UnitName())
            : "curl -fsSk --max-time 3 " + ShellQuoting.Quote(url);
        var r = await node.RunAsync(command, TimeSpan.FromSeconds(10), ct);
        return (r.Succeeded, (r.Output + r.Error).Trim());
    }

    // ---- etcd membership -----------------------------------------------------------------------------------------

    /// <summary>A connection to a node whose etcd is a healthy voting member (the target of a member change excluded).</summary>
    private async Task<NodeConnection> HealthyVoterAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, string? exceptName, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var candidate in inventory.Where(n => n.Name != exceptName).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            try
            {
                var node = await connections.GetAsync(candidate, ct);
                var status = await node.RunAsync(EtcdCtl.Local("endpoint", "status", "-w", "json"), TimeSpan.FromSeconds(10), ct);
                if (status.Succeeded && EtcdCtl.ParseStatus(status.Output) is [{ IsLearner: false }]
                    && (await node.RunAsync(EtcdCtl.Local("endpoint", "health"), TimeSpan.FromSeconds(10), ct)).Succeeded)
                {
                    return node;
                }

                problems.Add($"{candidate.Name}: etcd not a healthy voter");
            }
            catch (KubeExecutionException e)
            {
                problems.Add(e.Message);
            }
        }

        throw new OperationFailedException($"{op.Description}: no healthy voting etcd member reachable ({string.Join("; ", problems)})", transient: true);
    }

    private static async Task<IReadOnlyList<EtcdctlMember>> MembersAsync(NodeConnection node, CancellationToken ct) =>
        EtcdCtl.ParseMemberList(await node.RunCheckedAsync(EtcdCtl.Local("member", "list", "-w", "json"), TimeSpan.FromSeconds(15), ct));

    private async Task AddLearnerAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var name = Required(op, P.MemberName);
        var peerUrl = Required(op, P.PeerUrl);
        var via = await HealthyVoterAsync(op, inventory, name, ct);
        if ((await MembersAsync(via, ct)).Any(m => m.PeerUrls.Contains(peerUrl, StringComparer.Ordinal)))
        {
            return; // added already
        }

        await via.RunCheckedAsync(EtcdCtl.Local("member", "add", name, "--peer-urls=" + peerUrl, "--learner", "-w", "json"), TimeSpan.FromSeconds(15), ct);
    }

    private async Task PromoteAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var id = Required(op, P.MemberId);
        var deadline = time.GetUtcNow() + options.PromoteTimeout;
        while (true)
        {
            var via = await HealthyVoterAsync(op, inventory, Required(op, P.MemberName), ct);
            var member = (await MembersAsync(via, ct)).FirstOrDefault(m => m.HexId == id)
                ?? throw new OperationFailedException($"{op.Description}: member {id} is not in the member list");
            if (!member.IsLearner)
            {
                return; // voting already
            }

            var r = await via.RunAsync(EtcdCtl.Local("member", "promote", id), TimeSpan.FromSeconds(15), ct);
            if (r.Succeeded)
            {
                return;
            }

            if (!EtcdCtl.IsLearnerNotReady(r.Output + r.Error) || time.GetUtcNow() >= deadline)
            {
                throw new RemoteCommandException(via.Node.Name, "etcdctl member promote " + id, r.ExitCode, r.Error + r.Output, timedOut: false);
            }

            await Task.Delay(options.HealthPollInterval, time, ct);
        }
    }

    private async Task RemoveAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var id = Required(op, P.MemberId);
        var via = await HealthyVoterAsync(op, inventory, Required(op, P.MemberName), ct);
        var members = await MembersAsync(via, ct);
        var target = members.FirstOrDefault(m => m.HexId == id);
        if (target is null)
        {
            return; // gone already
        }

        if (!target.IsLearner)
        {
            // re-check quorum against a fresh view: the removal must commit and leave a cluster with quorum
            var voters = members.Where(m => !m.IsLearner).ToList();
            var endpoints = string.Join(',', voters.SelectMany(m => m.ClientUrls));
            var health = endpoints.Length == 0
                ? new Dictionary<string, bool>()
                : EtcdCtl.ParseHealth((await via.RunAsync(EtcdCtl.Command(endpoints, "endpoint", "health", "-w", "json"), TimeSpan.FromSeconds(20), ct)).Output);
            bool Healthy(EtcdctlMember m) => m.ClientUrls.Any(u => health.TryGetValue(u, out var h) && h);
            var healthy = voters.Count(Healthy);
            var remaining = voters.Count(m => m.Id != target.Id && Healthy(m));
            if (voters.Count <= 1 || healthy < ClusterPlanner.Quorum(voters.Count) || remaining < ClusterPlanner.Quorum(voters.Count - 1))
            {
                throw new OperationFailedException(
                    $"{op.Description}: refused, it would lose quorum ({healthy} healthy of {voters.Count} voters, {remaining} would remain)", transient: true);
            }
        }

        await via.RunCheckedAsync(EtcdCtl.Local("member", "remove", id), TimeSpan.FromSeconds(15), ct);
    }
}
