using Microsoft.Extensions.Logging;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Probing;

/// <summary>Observes the cluster for the planner (over SSH in production; a fake in controller tests).</summary>
public interface IClusterProber
{
    Task<ObservedCluster> ProbeAsync(IReadOnlyList<InventoryNode> inventory, CancellationToken ct);
}

/// <summary>
/// Observes the cluster for the planner: each inventory node over SSH (one script, in parallel), then the etcd
/// member list and the health of every member, through <c>etcdctl</c> on the first node whose etcd answers as a
/// voting member; then the Kubernetes API (ready, Nodes) through a control-plane node whose API server is ready.
/// Each Kubernetes component's health is its own check (apiserver <c>/readyz</c>, others <c>/healthz</c>), its
/// version that of the running process.
/// </summary>
public sealed partial class ClusterProber(NodeConnectionPool connections, ILogger<ClusterProber> logger) : IClusterProber
{
    public async Task<ObservedCluster> ProbeAsync(IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var script = NodeProbeScript.Render();
        var probes = await Task.WhenAll(inventory.Select(async node =>
        {
            try
            {
                var connection = await connections.GetAsync(node, ct);
                var r = await connection.RunAsync(script, TimeSpan.FromSeconds(30), ct);
                return (node, Probe: (NodeProbe?)NodeProbeScript.Parse(r.Output), Connection: (NodeConnection?)connection);
            }
            catch (KubeExecutionException e)
            {
                LogProbeFailed(logger, node.Name, e.Message);
                await connections.DropAsync(node.Serial);
                return (node, Probe: null, Connection: null);
            }
        }));

        var members = await EtcdViewAsync(probes.Where(p => p.Probe?.Units.GetValueOrDefault(ClusterComponent.Etcd.UnitName()).State == UnitState.Active)
            .Select(p => p.Connection!).ToList(), ct);

        var nodes = new Dictionary<string, ObservedNode>(StringComparer.Ordinal);
        foreach (var (node, probe, _) in probes)
        {
            if (probe is null)
            {
                nodes[node.Serial] = new ObservedNode(node.Serial) { Reachable = false };
                continue;
            }

            var peerUrl = NodeConfiguration.PeerUrl(node);
            var member = members.FirstOrDefault(m => m.PeerUrl == peerUrl);
            var units = new Dictionary<string, ObservedUnit>(StringComparer.Ordinal);
            foreach (var component in Enum.GetValues<ClusterComponent>())
            {
                if (probe.Units.TryGetValue(component.UnitName(), out var unit))
                {
                    var healthy = component == ClusterComponent.Etcd
                        ? member?.Healthy == true
                        : unit.State == UnitState.Active && probe.Components.TryGetValue(component, out var check) && check.Healthy;
                    units[component.UnitName()] = new ObservedUnit(unit.State, probe.Files.GetValueOrDefault(component.UnitPath(), ""), healthy)
                    {
                        ActiveSince = unit.ActiveSince,
                    };
                }
            }

            var versions = new Dictionary<ClusterComponent, string>();
            if ((probe.EtcdRunningVersion ?? probe.EtcdBinaryVersion) is { } etcdVersion)
            {
                versions[ClusterComponent.Etcd] = etcdVersion;
            }

            foreach (var (component, check) in probe.Components)
            {
                if (check.Version is { } version)
                {
                    versions[component] = version;
                }
            }

            nodes[node.Serial] = new ObservedNode(node.Serial)
            {
                Files = probe.Files,
                Units = units,
                Versions = versions,
                Credentials = probe.Credentials,
                EtcdDataPresent = probe.EtcdDataPresent,
            };
        }

        var (apiReady, kubeNodes) = await KubernetesViewAsync(probes
            .Where(p => p.Probe is { } np && np.Components.TryGetValue(ClusterComponent.KubeApiserver, out var api) && api.Healthy
                && np.Credentials.ContainsKey(KubernetesApi.AdminKubeconfig))
            .Select(p => p.Connection!).ToList(), ct);
        return new ObservedCluster { Nodes = nodes, EtcdMembers = members, ApiServerReady = apiReady, KubernetesNodes = kubeNodes };
    }

    /// <summary>
    /// Whether an API server is ready, and the Nodes, through the first control-plane node (by name) whose API server
    /// answered <c>/readyz</c> in its probe: <c>GET /api/v1/nodes</c> with its admin kubeconfig (<see cref="KubernetesApi"/>).
    /// </summary>
    private async Task<(bool Ready, IReadOnlyDictionary<string, ObservedKubeNode> Nodes)> KubernetesViewAsync(IReadOnlyList<NodeConnection> candidates, CancellationToken ct)
    {
        foreach (var node in candidates.OrderBy(c => c.Node.Name, StringComparer.Ordinal))
        {
            try
            {
                var r = await node.RunAsync(KubernetesApi.Request("GET", "/api/v1/nodes"), TimeSpan.FromSeconds(20), ct);
                var (status, body) = KubernetesApi.ParseResponse(r.Output);
                if (status == 200)
                {
                    return (true, KubernetesApi.ParseNodeList(body));
                }

                LogProbeFailed(logger, node.Node.Name, $"Kubernetes API: GET /api/v1/nodes answered {status}: {KubernetesApi.Message(body)} {r.Error.Trim()}");
            }
            catch (Exception e) when (e is KubeExecutionException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                LogProbeFailed(logger, node.Node.Name, "Kubernetes API: " + e.Message);
            }
        }

        return (false, new Dictionary<string, ObservedKubeNode>());
    }

    /// <summary>The member list with each member's health, from the first candidate that answers as a voter; empty when none does.</summary>
    private async Task<IReadOnlyList<EtcdMember>> EtcdViewAsync(IReadOnlyList<NodeConnection> candidates, CancellationToken ct)
    {
        foreach (var node in candidates.OrderBy(c => c.Node.Name, StringComparer.Ordinal))
        {
            try
            {
                var list = await node.RunAsync(EtcdCtl.Local("member", "list", "-w", "json"), TimeSpan.FromSeconds(15), ct);
                if (!list.Succeeded)
                {
                    continue;
                }

                var members = EtcdCtl.ParseMemberList(list.Output);
                // health of voters only (a learner serves no reads: its check would just time out), status of every
                // started member; both print what they got even when some endpoints fail (and then exit non-zero)
                var voters = members.Where(m => !m.IsLearner).SelectMany(m => m.ClientUrls).ToList();
                var started = members.SelectMany(m => m.ClientUrls).ToList();
                var statusTask = started.Count == 0
                    ? Task.FromResult(new CommandResult(0, "", ""))
                    : node.RunAsync(EtcdCtl.Command(string.Join(',', started), "endpoint", "status", "-w", "json"), TimeSpan.FromSeconds(20), ct);
                var healthTask = voters.Count == 0
                    ? Task.FromResult(new CommandResult(0, "", ""))
                    : node.RunAsync(EtcdCtl.Command(string.Join(',', voters), "endpoint", "health", "-w", "json"), TimeSpan.FromSeconds(20), ct);
                await Task.WhenAll(statusTask, healthTask);
                return Join(members, EtcdCtl.ParseStatus((await statusTask).Output), EtcdCtl.ParseHealth((await healthTask).Output));
            }
            catch (Exception e) when (e is KubeExecutionException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                LogProbeFailed(logger, node.Node.Name, "etcd view: " + e.Message);
            }
        }

        return [];
    }

    /// <summary>
    /// A voting member is healthy when <c>endpoint health</c> says so for one of its client URLs; a learner (which
    /// serves no reads) when its status answers and its raft index is within 10% of the voters' highest, as etcd's
    /// own promotion check.
    /// </summary>
    public static IReadOnlyList<EtcdMember> Join(IReadOnlyList<EtcdctlMember> members, IReadOnlyList<EtcdctlStatus> status, IReadOnlyDictionary<string, bool> health)
    {
        ArgumentNullException.ThrowIfNull(members);
        var voterIndex = status.Where(s => !s.IsLearner).Select(s => s.RaftIndex).DefaultIfEmpty(0UL).Max();
        return [.. members.Select(m =>
        {
            bool healthy;
            if (m.IsLearner)
            {
                var s = status.FirstOrDefault(x => x.MemberId == m.Id);
                healthy = s is not null && s.RaftIndex * 10 >= voterIndex * 9;
            }
            else
            {
                healthy = m.ClientUrls.Any(u => health.TryGetValue(u, out var h) && h);
            }

            return new EtcdMember(m.Id, m.Name, m.PeerUrls.Count > 0 ? m.PeerUrls[0] : "", m.IsLearner, healthy);
        })];
    }

    [LoggerMessage(EventIds.ProbeFailed, LogLevel.Warning, "Probe of {Node} failed: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string node, string reason);
}
