using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.Pki;

/// <summary>Reads what a certificate says and checks it against a profile or a trust anchor.</summary>
public static class CertificateChecks
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>Two thirds into the certificate's validity: when it is renewed.</summary>
    public static DateTimeOffset RenewalDue(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var from = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var to = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return from + ((to - from) * 2 / 3);
    }

    /// <summary>The DNS, IP and URI subject alternative names.</summary>
    public static (IReadOnlyList<string> Dns, IReadOnlyList<IPAddress> Ips, IReadOnlyList<Uri> Uris) SubjectAlternativeNames(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        var uris = new List<Uri>();
        var ext = certificate.Extensions[SubjectAltNameOid];
        if (ext is null)
        {
            return (dns, ips, uris);
        }

        // GeneralNames ::= SEQUENCE OF GeneralName; dNSName [2] IA5String, uniformResourceIdentifier [6], iPAddress [7] OCTET STRING
        var reader = new AsnReader(ext.RawData, AsnEncodingRules.DER);
        var names = reader.ReadSequence();
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.TagClass != TagClass.ContextSpecific)
            {
                names.ReadEncodedValue();
                continue;
            }

            switch (tag.TagValue)
            {
                case 2:
                    dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 2)));
                    break;
                case 6:
                    var text = names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 6));
                    if (Uri.TryCreate(text, UriKind.Absolute, out var uri))
                    {
                        uris.Add(uri);
                    }

                    break;
                case 7:
                    ips.Add(new IPAddress(names.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7))));
                    break;
                default:
                    names.ReadEncodedValue();
                    break;
            }
        }

        return (dns, ips, uris);
    }

    /// <summary>The extended key usage OIDs (empty when the extension is absent).</summary>
    public static IReadOnlyList<string> ExtendedKeyUsages(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return eku is null ? [] : [.. eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!)];
    }

    /// <summary>
    /// Throws <see cref="CertificateMismatchException"/> unless <paramref name="certificate"/> carries the profile's
    /// common name, every requested SAN and the requested usages. Used on what Vault returns, whose roles decide
    /// more than the request does.
    /// </summary>
    public static void EnsureMatches(CertificateProfile profile, X509Certificate2 certificate, string issuerDescription)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(certificate);
        var problems = new List<string>();
        var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.Equals(cn, profile.CommonName, StringComparison.Ordinal))
        {
            problems.Add($"common name is '{cn}', requested '{profile.CommonName}'");
        }

        var (dns, ips, uris) = SubjectAlternativeNames(certificate);
        var missingDns = profile.DnsNames.Where(d => !dns.Contains(d, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missingDns.Count > 0)
        {
            problems.Add("DNS names missing: " + string.Join(", ", missingDns));
        }

        var missingIps = profile.IpAddresses.Where(a => !ips.Contains(a)).ToList();
        if (missingIps.Count > 0)
        {
            problems.Add("IP addresses missing: " + string.Join(", ", missingIps));
        }

        var missingUris = profile.Uris.Where(u => !uris.Contains(u)).ToList();
        if (missingUris.Count > 0)
        {
            problems.Add("URIs missing: " + string.Join(", ", missingUris));
        }

        var ekus = ExtendedKeyUsages(certificate);
        if (profile.IsServer && !ekus.Contains(ServerAuthOid))
        {
            problems.Add("no server-auth extended key usage (Vault role: server_flag=true)");
        }

        if (profile.IsClient && !ekus.Contains(ClientAuthOid))
        {
            problems.Add("no client-auth extended key usage (Vault role: client_flag=true)");
        }

        foreach (var o in profile.Organizations)
        {
            if (!certificate.SubjectName.EnumerateRelativeDistinguishedNames()
                    .Any(r => r.GetSingleElementType().Value == "2.5.4.10" && r.GetSingleElementValue() == o))
            {
                problems.Add($"organisation '{o}' missing (Vault sets O= per role: organization)");
            }
        }

        if (problems.Count > 0)
        {
            throw new CertificateMismatchException($"{issuerDescription} issued a certificate that does not match the request: {string.Join("; ", problems)}");
        }
    }

    /// <summary>
    /// Builds the chain of <paramref name="certificate"/> against <paramref name="roots"/> only (custom root trust,
    /// no system store, no revocation fetch); <paramref name="intermediates"/> may help. Returns the chain status
    /// problems, empty when it validates.
    /// </summary>
    public static IReadOnlyList<X509ChainStatus> ValidateChain(
        X509Certificate2 certificate, IEnumerable<X509Certificate2> roots, IEnumerable<X509Certificate2>? intermediates = null, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(roots);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots.ToArray());
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
        }

        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time.UtcDateTime;
            chain.ChainPolicy.VerificationTimeIgnored = false;
        }

        return chain.Build(certificate) ? [] : [.. chain.ChainStatus];
    }
}
