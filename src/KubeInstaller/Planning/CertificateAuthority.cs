namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>The CA a certificate comes from (the PKI's Kubernetes and Kubernetes-etcd CAs).</summary>
public enum CertificateAuthority
{
    Kubernetes,
    Etcd,
}

public static class CertificateAuthorities
{
    /// <summary>The PKI's wire name of the CA (<c>CaKind.ToWire()</c>).</summary>
    public static string ToWire(this CertificateAuthority ca) => ca switch
    {
        CertificateAuthority.Kubernetes => "kubernetes",
        CertificateAuthority.Etcd => "kubernetes-etcd",
        _ => throw new ArgumentOutOfRangeException(nameof(ca), ca, null),
    };
}

/// <summary>A certificate or kubeconfig a node needs.</summary>
/// <param name="Label">Short name used in descriptions (<c>etcd-peer</c>, <c>admin kubeconfig</c>).</param>
/// <param name="Path">Certificate path (key beside it, <c>.key</c>) or kubeconfig path.</param>
/// <param name="Usage"><c>server</c>, <c>client</c> or <c>server,client</c>.</param>
/// <param name="Server">For kubeconfigs: the API server URL.</param>
internal sealed record CredentialSpec(
    string Label,
    string Path,
    CertificateAuthority Ca,
    string CommonName,
    string? Organization,
    IReadOnlyList<string> SubjectAltNames,
    string Usage,
    string? Server)
{
    public bool IsKubeconfig => Server is not null;
}
