using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace NekkoMetal.KubeComponentStandIn;

/// <summary>A problem with a file a component was given: the double exits with it, as the real component would.</summary>
internal sealed class StandInFatalException(string message) : Exception(message);

/// <summary>A kubeconfig as the double reads it (one cluster, one user: the shape the installer writes).</summary>
internal sealed record KubeconfigFile(string Path, string Server, X509Certificate2 Ca, X509Certificate2 Client);

/// <summary>
/// Loads the certificates, keys and kubeconfigs a component is given, refusing what the real component would
/// refuse (a missing file, a key that does not match its certificate, a certificate that does not chain to the CA it
/// is checked against), and describes each one for the record.
/// </summary>
internal sealed class Credentials(StandInRecord record)
{
    private static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new StandInFatalException($"open {path}: no such file or directory");

    public X509Certificate2 Certificate(string path, string role)
    {
        var text = ReadText(path);
        try
        {
            var cert = X509Certificate2.CreateFromPem(text);
            record.AddFile(path, role, Describe(cert));
            return cert;
        }
        catch (CryptographicException e)
        {
            throw new StandInFatalException($"{path}: not a PEM certificate: {e.Message}");
        }
    }

    /// <summary>A certificate with its private key; the key must be the certificate's.</summary>
    public X509Certificate2 Pair(string certPath, string keyPath, string role)
    {
        _ = ReadText(keyPath);
        var described = Certificate(certPath, role);
        try
        {
            var pair = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            record.AddFile(keyPath, role + " key", new JsonObject { ["matches"] = certPath });
            return pair;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new StandInFatalException($"{keyPath}: private key does not match {certPath}: {e.Message}");
        }
        finally
        {
            described.Dispose();
        }
    }

    /// <summary>The certificate must chain to <paramref name="ca"/> and carry the extended key usage asked for.</summary>
    public void MustChain(X509Certificate2 cert, X509Certificate2 ca, string certName, string caName, string? usageOid = null)
    {
        if (ChainError(cert, ca, usageOid) is { } error)
        {
            throw new StandInFatalException($"{certName} does not chain to {caName}: {error}");
        }

        record.Check($"{certName} chains to {caName}" + (usageOid is null ? "" : $" for {UsageName(usageOid)}"));
    }

    public static string? ChainError(X509Certificate2 cert, X509Certificate2 ca, string? usageOid)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (usageOid is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usageOid));
        }

        return chain.Build(cert)
            ? null
            : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain not valid"));
    }

    /// <summary>A PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC, as Kubernetes' keyutil reads).</summary>
    public AsymmetricAlgorithm PrivateKey(string path, string role)
    {
        var text = ReadText(path);
        var key = ImportKey(text, path, privateOnly: true);
        record.AddFile(path, role, new JsonObject { ["algorithm"] = key.SignatureAlgorithm ?? key.GetType().Name, ["keySize"] = key.KeySize, ["private"] = true });
        return key;
    }

    /// <summary>A PEM public or private key (the apiserver's <c>--service-account-key-file</c> takes either).</summary>
    public AsymmetricAlgorithm PublicOrPrivateKey(string path, string role)
    {
        var text = ReadText(path);
        var key = ImportKey(text, path, privateOnly: false);
        record.AddFile(path, role, new JsonObject { ["algorithm"] = key.SignatureAlgorithm ?? key.GetType().Name, ["keySize"] = key.KeySize });
        return key;
    }

    private static AsymmetricAlgorithm ImportKey(string pem, string path, bool privateOnly)
    {
        var isRsa = pem.Contains("RSA ", StringComparison.Ordinal);
        var isPublic = pem.Contains("PUBLIC KEY", StringComparison.Ordinal) && !pem.Contains("PRIVATE KEY", StringComparison.Ordinal);
        if (isPublic && privateOnly)
        {
            throw new StandInFatalException($"{path}: a public key where a private key is needed");
        }

        AsymmetricAlgorithm? key = null;
        Func<AsymmetricAlgorithm> rsa = RSA.Create, ec = ECDsa.Create;
        foreach (var factory in isRsa ? [rsa, ec] : new[] { ec, rsa })
        {
            var candidate = factory();
            try
            {
                candidate.ImportFromPem(pem);
                key = candidate;
                break;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                candidate.Dispose();
            }
        }

        return key ?? throw new StandInFatalException($"{path}: no PEM key that can be read");
    }

    public static byte[] PublicKeyInfo(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => rsa.ExportSubjectPublicKeyInfo(),
        ECDsa ec => ec.ExportSubjectPublicKeyInfo(),
        _ => [],
    };

    /// <summary>Reads the kubeconfig the installer writes: cluster server + embedded CA, user client certificate + key.</summary>
    public KubeconfigFile Kubeconfig(string path, string role)
    {
        var text = ReadText(path);
        string Value(string key) =>
            text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal)) is { } line
                ? line[(key.Length + 1)..].Trim().Trim('"')
                : throw new StandInFatalException($"{path}: no '{key}' (the double reads one cluster and one user with embedded data)");
        string Pem(string key)
        {
            try
            {
                return Encoding.ASCII.GetString(Convert.FromBase64String(Value(key)));
            }
            catch (FormatException)
            {
                throw new StandInFatalException($"{path}: '{key}' is not base64");
            }
        }

        var server = Value("server");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme != "https")
        {
            throw new StandInFatalException($"{path}: server '{server}' is not an https URL");
        }

        X509Certificate2 ca, client;
        try
        {
            ca = X509Certificate2.CreateFromPem(Pem("certificate-authority-data"));
            client = X509Certificate2.CreateFromPem(Pem("client-certificate-data"), Pem("client-key-data"));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new StandInFatalException($"{path}: embedded certificate or key unusable (a key that does not match its certificate?): {e.Message}");
        }

        if (ChainError(client, ca, ClientAuthOid) is { } error)
        {
            throw new StandInFatalException($"{path}: client certificate does not chain to the embedded CA for client auth: {error}");
        }

        var described = Describe(client);
        described["server"] = server;
        described["caSubject"] = ca.Subject;
        described["caSha256"] = Convert.ToHexStringLower(SHA256.HashData(ca.RawData));
        record.AddFile(path, role, described);
        record.Check($"{path}: client certificate chains to the embedded CA for client auth");
        return new KubeconfigFile(path, server, ca, client);
    }

    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private static string UsageName(string oid) => oid switch
    {
        ServerAuthOid => "serverAuth",
        ClientAuthOid => "clientAuth",
        _ => oid,
    };

    /// <summary>Subject (CN, O), issuer, SANs, extended key usages, validity and fingerprint, for the record.</summary>
    public static JsonObject Describe(X509Certificate2 cert)
    {
        var (dns, ips) = SubjectAltNames(cert);
        var eku = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        var ku = cert.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        var bc = cert.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        return new JsonObject
        {
            ["subject"] = cert.Subject,
            ["commonName"] = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            ["organizations"] = new JsonArray([.. Rdn(cert.SubjectName, "2.5.4.10").Select(o => (JsonNode?)o)]),
            ["issuer"] = cert.Issuer,
            ["dnsNames"] = new JsonArray([.. dns.Select(d => (JsonNode?)d)]),
            ["ipAddresses"] = new JsonArray([.. ips.Select(i => (JsonNode?)i)]),
            ["extendedKeyUsages"] = new JsonArray([.. (eku?.EnhancedKeyUsages.Cast<Oid>() ?? []).Select(o => (JsonNode?)UsageName(o.Value!))]),
            ["keyUsage"] = ku?.KeyUsages.ToString() ?? "",
            ["isCa"] = bc?.CertificateAuthority ?? false,
            ["notBefore"] = cert.NotBefore.ToUniversalTime().ToString("O"),
            ["notAfter"] = cert.NotAfter.ToUniversalTime().ToString("O"),
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(cert.RawData)),
        };
    }

    private static IEnumerable<string> Rdn(X500DistinguishedName name, string oid) =>
        name.EnumerateRelativeDistinguishedNames().Where(r => r.GetSingleElementType().Value == oid)
            .Select(r => r.GetSingleElementValue() ?? "");

    public static (List<string> Dns, List<string> Ips) SubjectAltNames(X509Certificate2 cert)
    {
        var dns = new List<string>();
        var ips = new List<string>();
        var ext = cert.Extensions["2.5.29.17"];
        if (ext is null)
        {
            return (dns, ips);
        }

        var reader = new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadSequence();
        while (reader.HasData)
        {
            var tag = reader.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 2)
            {
                dns.Add(reader.ReadCharacterString(UniversalTagNumber.IA5String, tag));
            }
            else if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 7)
            {
                ips.Add(new IPAddress(reader.ReadOctetString(tag)).ToString());
            }
            else
            {
                reader.ReadEncodedValue();
            }
        }

        return (dns, ips);
    }
}
