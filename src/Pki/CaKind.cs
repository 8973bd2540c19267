namespace NekkoMetal.Pki;

/// <summary>The separate certificate authorities NekkoMetal keeps: a certificate of one never passes for another's.</summary>
public enum CaKind
{
    /// <summary>Server certificates of the boot servers' HTTPS endpoints (admin API, agent API, dashboard).</summary>
    BootServerHttps,

    /// <summary>Client certificates of node agents, bound to the machine serial.</summary>
    AgentClient,

    /// <summary>The Kubernetes cluster CA (API server, kubelets, kubeconfigs).</summary>
    Kubernetes,

    /// <summary>The CA of Kubernetes' etcd (members, peers, API-server client).</summary>
    KubernetesEtcd,
}

public static class CaKinds
{
    public static IReadOnlyList<CaKind> All { get; } = Enum.GetValues<CaKind>();

    /// <summary>The name used in etcd keys, Vault defaults, logs and the CLI.</summary>
    public static string ToWire(this CaKind kind) => kind switch
    {
        CaKind.BootServerHttps => "boot-server-https",
        CaKind.AgentClient => "agent-client",
        CaKind.Kubernetes => "kubernetes",
        CaKind.KubernetesEtcd => "kubernetes-etcd",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string wire, out CaKind kind)
    {
        foreach (var k in All)
        {
            if (string.Equals(k.ToWire(), wire, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
