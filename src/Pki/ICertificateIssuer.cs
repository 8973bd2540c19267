using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.Pki;

/// <summary>
/// Issues certificates from one of NekkoMetal's CAs. Two implementations: the built-in CA (keys in etcd, encrypted
/// under a key-encryption key on the boot servers' disks) and Vault's PKI secrets engine.
/// </summary>
public interface ICertificateIssuer
{
    /// <summary>
    /// Generates a key pair and a certificate for it. The result carries the private key; it never leaves this
    /// process except where the caller hands it out.
    /// </summary>
    Task<IssuedCertificate> IssueAsync(CaKind ca, CertificateProfile profile, CancellationToken ct);

    /// <summary>
    /// Signs the public key of a PKCS#10 request (PEM), so the private key never leaves the requester. The CSR's
    /// signature is checked (proof of possession); subject, names, usage and lifetime come from
    /// <paramref name="profile"/>, never from the CSR.
    /// </summary>
    Task<IssuedCertificate> SignAsync(CaKind ca, string csrPem, CertificateProfile profile, CancellationToken ct);

    /// <summary>The CA's chain: the issuing CA first, the root last. Trust the last one.</summary>
    Task<IReadOnlyList<X509Certificate2>> GetCaChainAsync(CaKind ca, CancellationToken ct);

    /// <summary>
    /// Readies the issuer at start: the built-in CA loads its KEK and creates or loads every root; Vault logs in.
    /// Called by the host at start so a wrong key-encryption key or bad credentials stop the start with a clear error.
    /// </summary>
    Task InitializeAsync(CancellationToken ct);
}

/// <summary>
/// A certificate from an issuer and the chain up to its root (issuing CA first). Owns the certificates: dispose it
/// when done with them.
/// </summary>
public sealed class IssuedCertificate(CaKind ca, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain) : IDisposable
{
    public CaKind Ca { get; } = ca;

    /// <summary>The certificate; with its private key when the issuer generated the key.</summary>
    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Issuing CA first, root last.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; } = chain;

    /// <summary>When this certificate should be replaced: at two thirds of its lifetime.</summary>
    public DateTimeOffset RenewalDue => CertificateChecks.RenewalDue(Certificate);

    /// <summary>The certificate (and the chain without the root) in PEM, for files and API answers.</summary>
    public string CertificatePem() =>
        string.Concat(new[] { Certificate }.Concat(Chain.Take(Math.Max(0, Chain.Count - 1))).Select(c => c.ExportCertificatePem() + "\n"));

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var c in Chain)
        {
            c.Dispose();
        }
    }
}
