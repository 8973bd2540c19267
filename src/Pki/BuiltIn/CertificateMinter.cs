using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.Pki.BuiltIn;

/// <summary>
/// Makes certificates with System.Security.Cryptography, no I/O: self-signed roots and leaves signed by them.
/// Serial numbers are 128 random bits; leaves carry basic constraints (not a CA), key usage, extended key usage,
/// SANs, subject and authority key identifiers.
/// </summary>
internal static class CertificateMinter
{
    private const string RsaOid = "1.2.840.113549.1.1.1";

    /// <summary>A positive 16-byte serial: 128 random bits with the top bit cleared (RFC 5280 4.1.2.2: at most 20 octets, positive).</summary>
    public static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01); // positive and never a leading zero octet
        return serial;
    }

    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static X500DistinguishedName RootName(CaKind kind)
    {
        var b = new X500DistinguishedNameBuilder();
        b.AddOrganizationName("NekkoMetal");
        b.AddCommonName($"NekkoMetal {kind.ToWire()} CA");
        return b.Build();
    }

    /// <summary>A self-signed root: CA, path length 0 (it signs leaves only), keyCertSign and cRLSign.</summary>
    public static X509Certificate2 CreateRoot(CaKind kind, ECDsa key, DateTimeOffset now, TimeSpan lifetime, TimeSpan backdate)
    {
        var name = RootName(kind);
        var req = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        var ski = new X509SubjectKeyIdentifierExtension(req.PublicKey, critical: false);
        req.CertificateExtensions.Add(ski);
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
        var generator = X509SignatureGenerator.CreateForECDsa(key);
        using var cert = req.Create(name, generator, now - backdate, now + lifetime, NewSerial());
        return cert.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// A leaf for <paramref name="subjectKey"/> as <paramref name="profile"/> says, signed by the CA. The lifetime
    /// is clamped so the leaf never outlives its CA.
    /// </summary>
    public static X509Certificate2 CreateLeaf(
        X509Certificate2 caCertificate, ECDsa caKey, PublicKey subjectKey, CertificateProfile profile, DateTimeOffset now, TimeSpan backdate)
    {
        var caNotAfter = new DateTimeOffset(caCertificate.NotAfter.ToUniversalTime());
        if (caNotAfter <= now)
        {
            throw new CertificateRequestException($"the CA '{caCertificate.Subject}' expired at {caNotAfter:O}");
        }

        var notBefore = now - backdate;
        var caNotBefore = new DateTimeOffset(caCertificate.NotBefore.ToUniversalTime());
        if (notBefore < caNotBefore)
        {
            notBefore = caNotBefore;
        }

        var notAfter = now + profile.Lifetime;
        if (notAfter > caNotAfter)
        {
            notAfter = caNotAfter;
        }

        var subject = new X500DistinguishedNameBuilder();
        foreach (var o in profile.Organizations)
        {
            subject.AddOrganizationName(o);
        }

        subject.AddCommonName(profile.CommonName);
        var req = new CertificateRequest(subject.Build(), subjectKey, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));

        var usage = X509KeyUsageFlags.DigitalSignature;
        if (subjectKey.Oid.Value == RsaOid)
        {
            usage |= X509KeyUsageFlags.KeyEncipherment; // RSA key transport (TLS 1.2 RSA kex)
        }

        req.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        var ekus = new OidCollection();
        if (profile.IsServer)
        {
            ekus.Add(new Oid(CertificateChecks.ServerAuthOid));
        }

        if (profile.IsClient)
        {
            ekus.Add(new Oid(CertificateChecks.ClientAuthOid));
        }

        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ekus, critical: false));

        if (profile.DnsNames.Count + profile.IpAddresses.Count + profile.Uris.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var d in profile.DnsNames)
            {
                san.AddDnsName(d);
            }

            foreach (var ip in profile.IpAddresses)
            {
                san.AddIpAddress(ip);
            }

            foreach (var u in profile.Uris)
            {
                san.AddUri(u);
            }

            req.CertificateExtensions.Add(san.Build(critical: false));
        }

        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectKey, critical: false));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caCertificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        return req.Create(caCertificate.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), notBefore, notAfter, NewSerial());
    }

    /// <summary>
    /// Reads a PEM PKCS#10 request and checks its signature (proof that the requester holds the private key).
    /// Only its public key is used.
    /// </summary>
    public static PublicKey ReadCsrPublicKey(string csrPem)
    {
        if (string.IsNullOrWhiteSpace(csrPem) || csrPem.Length > 64 * 1024)
        {
            throw new CertificateRequestException("the CSR is empty or larger than 64 KiB");
        }

        try
        {
            var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
            return csr.PublicKey;
        }
        catch (CryptographicException e)
        {
            throw new CertificateRequestException("the CSR is not a PEM PKCS#10 request with a valid signature", e);
        }
    }
}
