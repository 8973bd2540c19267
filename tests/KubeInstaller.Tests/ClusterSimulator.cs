using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Tests;

/// <summary>
/// A perfect executor on an in-memory cluster: applies each operation to the observation as the real one would
/// leave the nodes, so tests can run plan → apply until converged and check what happened on the way.
/// </summary>
internal sealed class ClusterSimulator(ClusterDefinition definition, IReadOnlyList<InventoryNode> inventory, ObservedCluster observed)
{
    private ulong _nextMemberId = 100;
    private int _tick;

    /// <summary>A clock that advances with every operation, for file times and unit start times.</summary>
    private DateTimeOffset Tick() => Scenario.Now.AddSeconds(++_tick);

    public ObservedCluster Observed { get; private set; } = observed;

    public List<ClusterPlan> Plans { get; } = [];

    /// <summary>Runs plan → apply until the plan is empty (and, unless allowed, without blockers); returns the number of batches.</summary>
    public int RunToConvergence(int maxIterations = 100, Action<ClusterPlan, ObservedCluster>? check = null, bool allowBlockers = false)
    {
        for (var i = 0; i < maxIterations; i++)
        {
            var plan = ClusterPlanner.Plan(definition, inventory, Observed, Scenario.Now);
            if (plan.Operations.Count == 0)
            {
                Assert.True(allowBlockers || plan.IsConverged, $"stuck: {string.Join("; ", plan.Blockers)}");
                return i;
            }

            Plans.Add(plan);
            check?.Invoke(plan, Observed);
            foreach (var op in plan.Operations)
            {
                Apply(op);
            }
        }

        throw new Xunit.Sdk.XunitException("did not converge");
    }

    public IEnumerable<ClusterOperation> AllOperations => Plans.SelectMany(p => p.Operations);

    private InventoryNode NodeOf(ClusterOperation op) => inventory.Single(n => n.Name == op.Nodes[0]);

    private void Node(ClusterOperation op, Func<ObservedNode, ObservedNode> change) =>
        Observed = Observed.WithNode(NodeOf(op).Serial, change);

    private void Apply(ClusterOperation op)
    {
        switch (op.Kind)
        {
            case OperationKind.WriteBinary:
                Node(op, n => n with { Files = new Dictionary<string, string>(n.Files) { [op[P.Path]!] = op[P.Sha256]! } });
                break;
            case OperationKind.WriteServiceAccountKey:
                Node(op, n => n with { Files = new Dictionary<string, string>(n.Files) { [op[P.Path]!] = "key" } });
                break;
            case OperationKind.WriteUnit:
                Node(op, n => n with
                {
                    Units = new Dictionary<string, ObservedUnit>(n.Units)
                    {
                        [op[P.Unit]!] = new(n.Units.GetValueOrDefault(op[P.Unit]!)?.State ?? UnitState.Inactive, op[P.ContentSha256]!, false),
                    },
                });
                break;
            case OperationKind.IssueCertificate or OperationKind.IssueKubeconfig:
                Node(op, n => n with
                {
                    Credentials = new Dictionary<string, ObservedCredential>(n.Credentials)
                    {
                        [op[P.Path]!] = new(Scenario.Now, Scenario.Now.AddDays(365),
                            op[P.SubjectAltNames]!.Split(',', StringSplitOptions.RemoveEmptyEntries), op[P.Server])
                        { ModifiedAt = Tick() },
                    },
                });
                break;
            case OperationKind.StartUnit or OperationKind.RestartUnit:
                Start(op);
                break;
            case OperationKind.StopUnits:
                Node(op, n => n with
                {
                    Units = n.Units.ToDictionary(u => u.Key, u => op[P.Units]!.Split(',').Contains(u.Key) ? u.Value with { State = UnitState.Inactive, Healthy = false } : u.Value),
                });
                break;
            case OperationKind.AddEtcdLearner:
                if (!Observed.EtcdMembers.Any(m => m.PeerUrl == op[P.PeerUrl]))
                {
                    Observed = Observed with { EtcdMembers = [.. Observed.EtcdMembers, new EtcdMember(_nextMemberId++, "", op[P.PeerUrl]!, true, false)] };
                }

                break;
            case OperationKind.PromoteEtcdMember:
                Observed = Observed.WithMember(op[P.MemberName]!, m => m with { IsLearner = false });
                break;
            case OperationKind.RemoveEtcdMember:
                Observed = Observed with { EtcdMembers = [.. Observed.EtcdMembers.Where(m => m.PeerUrl != op[P.PeerUrl])] };
                break;
            case OperationKind.BackupEtcd:
                Observed = Observed with { LastEtcdBackup = new(op[P.KubernetesVersion]!, op[P.EtcdVersion]!, Scenario.Now) };
                break;
            case OperationKind.CordonNode:
                Observed = Observed.WithKubeNode(op.Nodes[0], k => k! with { Unschedulable = true, CordonedByInstaller = true });
                break;
            case OperationKind.UncordonNode:
                Observed = Observed.WithKubeNode(op.Nodes[0], k => k! with { Unschedulable = false, CordonedByInstaller = false });
                break;
            case OperationKind.DeleteNode:
                Observed = Observed.WithKubeNode(op.Nodes[0], _ => null);
                break;
            case OperationKind.LabelNode:
                Observed = Observed.WithKubeNode(op.Nodes[0], k => k! with
                {
                    Labels = new Dictionary<string, string>(k.Labels.Concat(op[P.Labels]!.Split(',').Select(l => l.Split('=')).Select(p => KeyValuePair.Create(p[0], p[1])))),
                });
                break;
            case OperationKind.WaitHealthy or OperationKind.WriteEtcdInitialCluster or OperationKind.DrainNode:
                break;
            default:
                throw new InvalidOperationException(op.Kind.ToString());
        }
    }

    private void Start(ClusterOperation op)
    {
        var node = NodeOf(op);
        var component = Enum.GetValues<ClusterComponent>().Single(c => c.ToWire() == op[P.Component]);
        var binary = Observed.Nodes[node.Serial].Files[component.BinaryPath()];
        var version = definition.Binaries.Single(b => b.Component == component && b.Sha256 == binary).Version;
        Node(op, n => n with
        {
            Units = new Dictionary<string, ObservedUnit>(n.Units) { [component.UnitName()] = n.Units[component.UnitName()] with { State = UnitState.Active, Healthy = true, ActiveSince = Tick() } },
            Versions = new Dictionary<ClusterComponent, string>(n.Versions) { [component] = version },
            EtcdDataPresent = n.EtcdDataPresent || component == ClusterComponent.Etcd,
        });
        switch (component)
        {
            case ClusterComponent.Etcd:
                var peer = NodeConfiguration.PeerUrl(node);
                if (Observed.EtcdMembers.Any(m => m.PeerUrl == peer))
                {
                    Observed = Observed with { EtcdMembers = [.. Observed.EtcdMembers.Select(m => m.PeerUrl == peer ? m with { Name = node.Name, Healthy = true } : m)] };
                }
                else
                {
                    Observed = Observed with { EtcdMembers = [.. Observed.EtcdMembers, new EtcdMember(_nextMemberId++, node.Name, peer, false, true)] };
                }

                break;
            case ClusterComponent.KubeApiserver:
                Observed = Observed with { ApiServerReady = true };
                break;
            case ClusterComponent.Kubelet when !Observed.KubernetesNodes.ContainsKey(node.Name):
                Observed = Observed.WithKubeNode(node.Name, _ => new ObservedKubeNode(node.Name, true, false, false, new Dictionary<string, string>()));
                break;
        }
    }
}
