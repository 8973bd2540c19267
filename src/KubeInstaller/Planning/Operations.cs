using System.Collections.Immutable;
using System.Globalization;
using NekkoMetal.KubeInstaller.Model;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>Builds operations with their parameters and descriptions, all for one phase.</summary>
internal sealed class Operations(ClusterPhase phase)
{
    private ClusterOperation Make(OperationKind kind, IEnumerable<string> nodes, string description, params (string Key, string Value)[] parameters) =>
        new(phase, kind, [.. nodes], parameters.ToImmutableSortedDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), description);

    private ClusterOperation Make(OperationKind kind, InventoryNode node, string description, params (string Key, string Value)[] parameters) =>
        Make(kind, [node.Name], $"{node.Name}: {description}", parameters);

    public ClusterOperation IssueCredential(InventoryNode node, CredentialSpec spec, string reason)
    {
        var common = new (string, string)[]
        {
            (P.Path, spec.Path), (P.Ca, spec.Ca.ToWire()), (P.CommonName, spec.CommonName),
            (P.Organization, spec.Organization ?? ""), (P.SubjectAltNames, string.Join(',', spec.SubjectAltNames)), (P.Usage, spec.Usage),
        };
        return spec.Server is { } server
            ? Make(OperationKind.IssueKubeconfig, node, $"issue {spec.Label} {spec.Path} (ca {spec.Ca.ToWire()}, {reason})", [.. common, (P.Server, server)])
            : Make(OperationKind.IssueCertificate, node, $"issue {spec.Label} certificate {spec.Path} (ca {spec.Ca.ToWire()}, {reason})", common);
    }

    public ClusterOperation WriteServiceAccountKey(InventoryNode node) =>
        Make(OperationKind.WriteServiceAccountKey, node, $"write service-account key {NodeConfiguration.ServiceAccountKeyPath}",
            (P.Path, NodeConfiguration.ServiceAccountKeyPath));

    public ClusterOperation WriteBinary(InventoryNode node, BinaryPin pin) =>
        Make(OperationKind.WriteBinary, node, $"write binary {pin.Component.ToWire()} {pin.Version} from asset {pin.AssetName}",
            (P.Component, pin.Component.ToWire()), (P.Version, pin.Version), (P.AssetName, pin.AssetName),
            (P.Sha256, pin.Sha256), (P.Path, pin.Component.BinaryPath()));

    public ClusterOperation WriteUnit(InventoryNode node, ClusterComponent component, string content) =>
        Make(OperationKind.WriteUnit, node, $"write unit {component.UnitName()}",
            (P.Component, component.ToWire()), (P.Unit, component.UnitName()), (P.Path, component.UnitPath()),
            (P.Content, content), (P.ContentSha256, NodeConfiguration.Sha256Hex(content)));

    public ClusterOperation StartUnit(InventoryNode node, ClusterComponent component) =>
        Make(OperationKind.StartUnit, node, $"start {component.UnitName()}", (P.Component, component.ToWire()), (P.Unit, component.UnitName()));

    public ClusterOperation RestartUnit(InventoryNode node, ClusterComponent component) =>
        Make(OperationKind.RestartUnit, node, $"restart {component.UnitName()}", (P.Component, component.ToWire()), (P.Unit, component.UnitName()));

    public ClusterOperation StopUnits(InventoryNode node, IReadOnlyList<string> units) =>
        Make(OperationKind.StopUnits, node, $"stop {string.Join(' ', units)}", (P.Units, string.Join(',', units)));

    public ClusterOperation WaitHealthy(InventoryNode node, ClusterComponent component) =>
        Make(OperationKind.WaitHealthy, node, $"wait for {component.ToWire()} healthy", (P.Component, component.ToWire()));

    public ClusterOperation WriteEtcdInitialCluster(InventoryNode node, string state, string initialCluster) =>
        Make(OperationKind.WriteEtcdInitialCluster, node, $"write etcd initial cluster ({state}) {initialCluster}",
            (P.Path, NodeConfiguration.EtcdInitialClusterPath), (P.InitialClusterState, state), (P.InitialCluster, initialCluster));

    public ClusterOperation AddEtcdLearner(InventoryNode node) =>
        Make(OperationKind.AddEtcdLearner, [node.Name], $"etcd: add learner {node.Name} {NodeConfiguration.PeerUrl(node)}",
            (P.MemberName, node.Name), (P.PeerUrl, NodeConfiguration.PeerUrl(node)));

    public ClusterOperation PromoteEtcdMember(EtcdMember member, string name) =>
        Make(OperationKind.PromoteEtcdMember, [name], $"etcd: promote learner {name} (id {Hex(member.Id)})",
            (P.MemberId, Hex(member.Id)), (P.MemberName, name));

    public ClusterOperation RemoveEtcdMember(EtcdMember member, string name) =>
        Make(OperationKind.RemoveEtcdMember, [name], $"etcd: remove member {name} (id {Hex(member.Id)})",
            (P.MemberId, Hex(member.Id)), (P.MemberName, name), (P.PeerUrl, member.PeerUrl));

    public ClusterOperation BackupEtcd(ClusterDefinition definition) =>
        Make(OperationKind.BackupEtcd, [], $"etcd: back up before upgrading to kubernetes {definition.KubernetesVersion}, etcd {definition.EtcdVersion}",
            (P.KubernetesVersion, definition.KubernetesVersion), (P.EtcdVersion, definition.EtcdVersion));

    public ClusterOperation CordonNode(string name) => Make(OperationKind.CordonNode, [name], $"node {name}: cordon");

    public ClusterOperation DrainNode(string name) => Make(OperationKind.DrainNode, [name], $"node {name}: drain");

    public ClusterOperation UncordonNode(string name) => Make(OperationKind.UncordonNode, [name], $"node {name}: uncordon");

    public ClusterOperation DeleteNode(string name) => Make(OperationKind.DeleteNode, [name], $"node {name}: delete");

    public ClusterOperation LabelNode(string name, IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var text = string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"));
        return Make(OperationKind.LabelNode, [name], $"node {name}: label {text}", (P.Labels, text));
    }

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
}
