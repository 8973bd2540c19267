using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using NekkoMetal.Pki;
using YamlDotNet.RepresentationModel;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// What a real Kubernetes component needs of the certificates, kubeconfigs and flags the installer gives it, as
/// checks that collect every problem (the test prints them all at once): a certificate chains to the right CA with
/// the right extended key usage, has the subject Kubernetes' authenticators and RBAC expect (CN = user, O = groups)
/// and the SANs clients dial; a kubeconfig is a valid v1 Config whose current context names a cluster (server = the
/// expected endpoint, CA = the cluster CA, embedded) and a user (client certificate and matching key, chained to the
/// CA for client auth); a component was started with each flag it needs, with the value this cluster needs.
/// </summary>
internal sealed class KubeCredentialChecks(DateTimeOffset now)
{
    public List<string> Problems { get; } = [];

    private void Problem(string label, string text) => Problems.Add($"{label}: {text}");

    public static string ServerAuth => CertificateChecks.ServerAuthOid;

    public static string ClientAuth => CertificateChecks.ClientAuthOid;

    /// <summary>Subject, SANs, usages, chain and validity of one certificate.</summary>
    public void Certificate(string label, X509Certificate2 cert, X509Certificate2 ca, string commonName, IReadOnlyList<string> organizations,
        IReadOnlyList<string> usages, IReadOnlyList<string>? dnsNames = null, IReadOnlyList<string>? ipAddresses = null)
    {
        var cn = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (cn != commonName)
        {
            Problem(label, $"CN is '{cn}', Kubernetes expects '{commonName}'");
        }

        var orgs = cert.SubjectName.EnumerateRelativeDistinguishedNames().Where(r => r.GetSingleElementType().Value == "2.5.4.10")
            .Select(r => r.GetSingleElementValue() ?? "").Order(StringComparer.Ordinal).ToList();
        if (!orgs.SequenceEqual(organizations.Order(StringComparer.Ordinal)))
        {
            Problem(label, $"O is [{string.Join(", ", orgs)}], expected [{string.Join(", ", organizations)}]");
        }

        var ekus = CertificateChecks.ExtendedKeyUsages(cert);
        foreach (var usage in usages)
        {
            if (!ekus.Contains(usage))
            {
                Problem(label, $"extended key usage {Name(usage)} missing (has {string.Join(", ", ekus.Select(Name))})");
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
            chain.ChainPolicy.VerificationTime = now.UtcDateTime;
            if (!chain.Build(cert))
            {
                Problem(label, $"does not chain to {ca.Subject} for {Name(usage)}: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}");
            }
        }

        if (cert.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true })
        {
            Problem(label, "is a CA certificate");
        }

        if (cert.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } ku && !ku.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            Problem(label, $"key usage {ku.KeyUsages} lacks digitalSignature (TLS needs it)");
        }

        if (now < cert.NotBefore || now > cert.NotAfter)
        {
            Problem(label, $"not valid now ({cert.NotBefore:O} – {cert.NotAfter:O})");
        }

        var sans = CertificateChecks.SubjectAlternativeNames(cert);
        foreach (var dns in dnsNames ?? [])
        {
            if (!sans.Dns.Contains(dns, StringComparer.OrdinalIgnoreCase))
            {
                Problem(label, $"DNS SAN '{dns}' missing (has {string.Join(", ", sans.Dns)})");
            }
        }

        foreach (var ip in ipAddresses ?? [])
        {
            if (!sans.Ips.Any(a => a.ToString() == ip))
            {
                Problem(label, $"IP SAN {ip} missing (has {string.Join(", ", sans.Ips)})");
            }
        }
    }

    /// <summary>A kubeconfig file: structure, current context, server, embedded CA, client certificate and its key.</summary>
    public void Kubeconfig(string label, string yaml, X509Certificate2 ca, string server, string commonName, IReadOnlyList<string> organizations)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            root = (YamlMappingNode)stream.Documents[0].RootNode;
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidCastException or ArgumentOutOfRangeException)
        {
            Problem(label, "not YAML a kubeconfig loader reads: " + e.Message);
            return;
        }

        string? Scalar(YamlNode? node, string key) =>
            node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;
        YamlNode? Child(YamlNode? node, string key) =>
            node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
        YamlNode? Named(string list, string? name) =>
            Child(root, list) is YamlSequenceNode seq ? seq.Children.FirstOrDefault(e => Scalar(e, "name") == name) : null;

        if (Scalar(root, "apiVersion") != "v1" || Scalar(root, "kind") != "Config")
        {
            Problem(label, $"apiVersion/kind are '{Scalar(root, "apiVersion")}'/'{Scalar(root, "kind")}', expected v1/Config");
        }

        var contextName = Scalar(root, "current-context");
        var context = Child(Named("contexts", contextName), "context");
        if (context is null)
        {
            Problem(label, $"current-context '{contextName}' names no context");
            return;
        }

        var cluster = Child(Named("clusters", Scalar(context, "cluster")), "cluster");
        var user = Child(Named("users", Scalar(context, "user")), "user");
        if (cluster is null || user is null)
        {
            Problem(label, $"the current context's cluster '{Scalar(context, "cluster")}' or user '{Scalar(context, "user")}' is not defined");
            return;
        }

        if (Scalar(cluster, "server") != server)
        {
            Problem(label, $"server is '{Scalar(cluster, "server")}', expected '{server}'");
        }

        if (Scalar(cluster, "insecure-skip-tls-verify") == "true")
        {
            Problem(label, "insecure-skip-tls-verify is set");
        }

        try
        {
            using var embeddedCa = X509Certificate2.CreateFromPem(Decode(Scalar(cluster, "certificate-authority-data")));
            if (!embeddedCa.RawData.AsSpan().SequenceEqual(ca.RawData))
            {
                Problem(label, $"embedded CA is '{embeddedCa.Subject}', not the cluster CA '{ca.Subject}'");
            }

            using var client = X509Certificate2.CreateFromPem(Decode(Scalar(user, "client-certificate-data")), Decode(Scalar(user, "client-key-data")));
            Certificate(label + " client certificate", client, ca, commonName, organizations, [ClientAuth]);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException)
        {
            Problem(label, "embedded CA, client certificate or key unusable (a key that does not match its certificate?): " + e.Message);
        }
    }

    private static string Decode(string? base64) => Encoding.ASCII.GetString(Convert.FromBase64String(base64 ?? ""));

    /// <summary>Each expected flag present with its value (null: any value); a value given as <c>~x</c>: a comma list containing x.</summary>
    public void Flags(string label, JsonNode record, IReadOnlyDictionary<string, string?> expected)
    {
        var flags = record["flags"]?.AsObject();
        foreach (var (flag, value) in expected)
        {
            var actual = flags?[flag]?.GetValue<string>();
            if (actual is null)
            {
                Problem(label, $"--{flag} missing");
            }
            else if (value is ['~', .. var item] ? !actual.Split(',').Contains(item, StringComparer.Ordinal) : value is not null && actual != value)
            {
                Problem(label, $"--{flag}={actual}, expected {value}");
            }
        }

        if (record["fatal"]?.GetValue<string>() is { } fatal)
        {
            Problem(label, "the stand-in refused to start: " + fatal);
        }
    }

    private static string Name(string oid) => oid == ServerAuth ? "serverAuth" : oid == ClientAuth ? "clientAuth" : oid;
}
