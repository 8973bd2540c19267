using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>
/// The files the installer wants on a node: unit files (rendered here, so their hash is the desired content hash),
/// certificates and kubeconfigs. Pure: the same definition and topology always render the same bytes.
/// </summary>
internal static class NodeConfiguration
{
    public const string PkiDir = "/etc/nekko/pki";
    public const string KubeconfigDir = "/etc/nekko/kubeconfig";
    public const string EtcdInitialClusterPath = "/etc/nekko/etcd/initial-cluster.env";
    public const string ServiceAccountKeyPath = PkiDir + "/service-account.key";
    public const string LocalApiServer = "https://127.0.0.1:6443";

    public static string PeerUrl(InventoryNode node) => $"https://{node.Address}:2380";

    public static string ClientUrl(InventoryNode node) => $"https://{node.Address}:2379";

    public static string ApiServerUrl(InventoryNode node) => $"https://{node.Address}:6443";

    public static string Sha256Hex(string content) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>The n-th address of a CIDR (1 = the API service, 10 = cluster DNS).</summary>
    public static string NthAddress(string cidr, int n)
    {
        var bytes = IPNetwork.Parse(cidr).BaseAddress.GetAddressBytes();
        var value = (uint)((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) + (uint)n;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]).ToString();
    }

    /// <summary>The unit file of a component on a node.</summary>
    public static string RenderUnit(ClusterComponent component, InventoryNode node, ClusterDefinition definition, ClusterTopology topology)
    {
        var flags = component switch
        {
            ClusterComponent.Etcd => EtcdFlags(node),
            ClusterComponent.ContainerRuntime => [],
            ClusterComponent.KubeApiserver => ApiServerFlags(node, definition, topology),
            ClusterComponent.KubeControllerManager => ControllerManagerFlags(definition),
            ClusterComponent.KubeScheduler => SchedulerFlags(),
            ClusterComponent.Kubelet => KubeletFlags(node, definition),
            ClusterComponent.KubeProxy => KubeProxyFlags(node, definition),
            _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
        };
        if (definition.ExtraFlags.TryGetValue(component, out var extra))
        {
            flags = [.. flags, .. extra];
        }

        var text = new StringBuilder();
        text.Append("# Written by NekkoMetal KubeInstaller; changes are overwritten.\n");
        text.Append("[Unit]\n");
        text.Append(CultureInfo.InvariantCulture, $"Description=NekkoMetal {component.ToWire()}\n");
        text.Append("After=network-online.target");
        text.Append(component is ClusterComponent.Kubelet ? " containerd.service\n" : "\n");
        text.Append("Wants=network-online.target\n\n");
        text.Append("[Service]\n");
        if (component is ClusterComponent.Etcd)
        {
            text.Append(CultureInfo.InvariantCulture, $"EnvironmentFile=-{EtcdInitialClusterPath}\n");
        }

        text.Append("ExecStart=").Append(component.BinaryPath());
        foreach (var flag in flags)
        {
            text.Append(" \\\n  ").Append(flag);
        }

        text.Append("\nRestart=always\nRestartSec=5\n");
        if (component is ClusterComponent.ContainerRuntime or ClusterComponent.Kubelet)
        {
            text.Append("Delegate=yes\nKillMode=process\n");
        }

        text.Append("\n[Install]\nWantedBy=multi-user.target\n");
        return text.ToString();
    }

    private static string[] EtcdFlags(InventoryNode node) =>
    [
        $"--name={node.Name}",
        "--data-dir=/var/lib/etcd",
        $"--listen-peer-urls={PeerUrl(node)}",
        $"--initial-advertise-peer-urls={PeerUrl(node)}",
        $"--listen-client-urls={ClientUrl(node)},https://127.0.0.1:2379",
        $"--advertise-client-urls={ClientUrl(node)}",
        $"--cert-file={PkiDir}/etcd/server.crt",
        $"--key-file={PkiDir}/etcd/server.key",
        $"--trusted-ca-file={PkiDir}/etcd/ca.crt",
        "--client-cert-auth=true",
        $"--peer-cert-file={PkiDir}/etcd/peer.crt",
        $"--peer-key-file={PkiDir}/etcd/peer.key",
        $"--peer-trusted-ca-file={PkiDir}/etcd/ca.crt",
        "--peer-client-cert-auth=true",
    ];

    private static string[] ApiServerFlags(InventoryNode node, ClusterDefinition definition, ClusterTopology topology) =>
    [
        $"--advertise-address={node.Address}",
        "--secure-port=6443",
        $"--etcd-servers={string.Join(',', topology.ControlPlane.Select(ClientUrl))}",
        $"--etcd-cafile={PkiDir}/etcd/ca.crt",
        $"--etcd-certfile={PkiDir}/apiserver-etcd-client.crt",
        $"--etcd-keyfile={PkiDir}/apiserver-etcd-client.key",
        $"--client-ca-file={PkiDir}/ca.crt",
        $"--tls-cert-file={PkiDir}/apiserver.crt",
        $"--tls-private-key-file={PkiDir}/apiserver.key",
        $"--kubelet-client-certificate={PkiDir}/apiserver-kubelet-client.crt",
        $"--kubelet-client-key={PkiDir}/apiserver-kubelet-client.key",
        // Node names are machine serials no DNS resolves: dial kubelets (logs, exec, port-forward) at their InternalIP
        // (the default puts Hostname first), and verify their serving certificates, which the cluster CA issued for it
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        $"--kubelet-certificate-authority={PkiDir}/ca.crt",
        $"--service-cluster-ip-range={definition.ServiceCidr}",
        $"--service-account-issuer=https://kubernetes.default.svc.{definition.DnsDomain}",
        $"--service-account-key-file={ServiceAccountKeyPath}",
        $"--service-account-signing-key-file={ServiceAccountKeyPath}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
    ];

    private static string[] ControllerManagerFlags(ClusterDefinition definition) =>
    [
        $"--kubeconfig={KubeconfigDir}/controller-manager.conf",
        $"--authentication-kubeconfig={KubeconfigDir}/controller-manager.conf",
        $"--authorization-kubeconfig={KubeconfigDir}/controller-manager.conf",
        "--leader-elect=true",
        $"--cluster-name={definition.Name}",
        "--allocate-node-cidrs=true",
        $"--cluster-cidr={definition.PodCidr}",
        $"--service-cluster-ip-range={definition.ServiceCidr}",
        $"--root-ca-file={PkiDir}/ca.crt",
        $"--service-account-private-key-file={ServiceAccountKeyPath}",
        "--use-service-account-credentials=true",
    ];

    private static string[] SchedulerFlags() =>
    [
        $"--kubeconfig={KubeconfigDir}/scheduler.conf",
        $"--authentication-kubeconfig={KubeconfigDir}/scheduler.conf",
        $"--authorization-kubeconfig={KubeconfigDir}/scheduler.conf",
        "--leader-elect=true",
    ];

    private static string[] KubeletFlags(InventoryNode node, ClusterDefinition definition) =>
    [
        $"--kubeconfig={KubeconfigDir}/kubelet.conf",
        $"--hostname-override={node.Name}",
        $"--node-ip={node.Address}",
        "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
        $"--cluster-dns={NthAddress(definition.ServiceCidr, 10)}",
        $"--cluster-domain={definition.DnsDomain}",
        $"--client-ca-file={PkiDir}/ca.crt",
        $"--tls-cert-file={PkiDir}/kubelet.crt",
        $"--tls-private-key-file={PkiDir}/kubelet.key",
        // the flag defaults are anonymous-auth=true and authorization-mode=AlwaysAllow: anyone who reaches :10250 could
        // exec into pods. Authenticate by client certificate (the apiserver's kubelet client) or bearer token, and
        // authorize through the API server's SubjectAccessReview, as kubeadm's kubelet configuration does.
        "--anonymous-auth=false",
        "--authentication-token-webhook=true",
        "--authorization-mode=Webhook",
    ];

    private static string[] KubeProxyFlags(InventoryNode node, ClusterDefinition definition) =>
    [
        $"--kubeconfig={KubeconfigDir}/kube-proxy.conf",
        $"--hostname-override={node.Name}",
        $"--cluster-cidr={definition.PodCidr}",
    ];

    /// <summary>The credential files a component reads at start (it must restart to load new ones).</summary>
    public static IReadOnlyList<string> CredentialsReadBy(ClusterComponent component) => component switch
    {
        ClusterComponent.Etcd => [$"{PkiDir}/etcd/server.crt", $"{PkiDir}/etcd/peer.crt"],
        ClusterComponent.KubeApiserver =>
            [$"{PkiDir}/apiserver.crt", $"{PkiDir}/apiserver-etcd-client.crt", $"{PkiDir}/apiserver-kubelet-client.crt"],
        ClusterComponent.KubeControllerManager => [$"{KubeconfigDir}/controller-manager.conf"],
        ClusterComponent.KubeScheduler => [$"{KubeconfigDir}/scheduler.conf"],
        ClusterComponent.Kubelet => [$"{PkiDir}/kubelet.crt", $"{KubeconfigDir}/kubelet.conf"],
        ClusterComponent.KubeProxy => [$"{KubeconfigDir}/kube-proxy.conf"],
        _ => [],
    };

    /// <summary>The etcd certificates a member needs (issued with the member, in the etcd phase).</summary>
    public static IReadOnlyList<CredentialSpec> EtcdCredentials(InventoryNode node) =>
    [
        new("etcd-server", $"{PkiDir}/etcd/server.crt", CertificateAuthority.Etcd, node.Name, null,
            [node.Name, node.Address, "localhost", "127.0.0.1"], "server,client", null),
        new("etcd-peer", $"{PkiDir}/etcd/peer.crt", CertificateAuthority.Etcd, node.Name, null,
            [node.Name, node.Address], "server,client", null),
    ];

    /// <summary>Every certificate and kubeconfig a node needs, in a fixed order.</summary>
    public static IReadOnlyList<CredentialSpec> Credentials(
        InventoryNode node, ClusterDefinition definition, ClusterTopology topology)
    {
        var list = new List<CredentialSpec>();
        if (topology.IsControlPlane(node))
        {
            list.AddRange(EtcdCredentials(node));
            var sans = new List<string>
            {
                "kubernetes", "kubernetes.default", "kubernetes.default.svc", $"kubernetes.default.svc.{definition.DnsDomain}",
                node.Name, node.Address, NthAddress(definition.ServiceCidr, 1), "localhost", "127.0.0.1",
            };
            if (definition.ControlPlaneEndpoint is { } endpoint && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            {
                sans.Add(uri.Host);
            }

            list.Add(new("apiserver", $"{PkiDir}/apiserver.crt", CertificateAuthority.Kubernetes, "kube-apiserver", null,
                sans, "server", null));
            list.Add(new("apiserver-etcd-client", $"{PkiDir}/apiserver-etcd-client.crt", CertificateAuthority.Etcd,
                "kube-apiserver-etcd-client", null, [], "client", null));
            list.Add(new("apiserver-kubelet-client", $"{PkiDir}/apiserver-kubelet-client.crt", CertificateAuthority.Kubernetes,
                "kube-apiserver-kubelet-client", "system:masters", [], "client", null));
            list.Add(new("admin kubeconfig", $"{KubeconfigDir}/admin.conf", CertificateAuthority.Kubernetes,
                "admin", "system:masters", [], "client", LocalApiServer));
            list.Add(new("controller-manager kubeconfig", $"{KubeconfigDir}/controller-manager.conf", CertificateAuthority.Kubernetes,
                "system:kube-controller-manager", null, [], "client", LocalApiServer));
            list.Add(new("scheduler kubeconfig", $"{KubeconfigDir}/scheduler.conf", CertificateAuthority.Kubernetes,
                "system:kube-scheduler", null, [], "client", LocalApiServer));
        }

        if (topology.RunsKubelet(node))
        {
            var server = topology.ApiEndpoint;
            list.Add(new("kubelet", $"{PkiDir}/kubelet.crt", CertificateAuthority.Kubernetes, node.Name, null,
                [node.Name, node.Address], "server", null));
            list.Add(new("kubelet kubeconfig", $"{KubeconfigDir}/kubelet.conf", CertificateAuthority.Kubernetes,
                $"system:node:{node.Name}", "system:nodes", [], "client", server));
            list.Add(new("kube-proxy kubeconfig", $"{KubeconfigDir}/kube-proxy.conf", CertificateAuthority.Kubernetes,
                "system:kube-proxy", null, [], "client", server));
        }

        return list;
    }
}
