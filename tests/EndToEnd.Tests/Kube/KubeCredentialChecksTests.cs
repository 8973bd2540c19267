using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using NekkoMetal.KubeInstaller.Execution.Execution;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>The checks the stand-in test applies find what a real component would trip over (no nodes, no root).</summary>
public sealed class KubeCredentialChecksTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static (X509Certificate2 Cert, ECDsa Key) Ca(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        return (request.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1)), key);
    }

    private static X509Certificate2 Issue((X509Certificate2 Cert, ECDsa Key) ca, string subject, string usage, string[]? dns = null, string[]? ips = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        var sans = new SubjectAlternativeNameBuilder();
        foreach (var d in dns ?? [])
        {
            sans.AddDnsName(d);
        }

        foreach (var i in ips ?? [])
        {
            sans.AddIpAddress(IPAddress.Parse(i));
        }

        request.CertificateExtensions.Add(sans.Build());
        using var cert = request.Create(ca.Cert, Now.AddDays(-1), Now.AddDays(30), RandomNumberGenerator.GetBytes(8));
        return cert.CopyWithPrivateKey(key);
    }

    private static string KeyPem(X509Certificate2 cert) => cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem();

    [Fact]
    public void A_good_apiserver_certificate_and_kubelet_kubeconfig_pass()
    {
        var ca = Ca("kubernetes-ca");
        var checks = new KubeCredentialChecks(Now);
        using var serving = Issue(ca, "CN=kube-apiserver", KubeCredentialChecks.ServerAuth, ["kubernetes", "kubernetes.default"], ["10.96.0.1"]);
        checks.Certificate("apiserver", serving, ca.Cert, "kube-apiserver", [], [KubeCredentialChecks.ServerAuth], ["kubernetes", "kubernetes.default"], ["10.96.0.1"]);
        using var client = Issue(ca, "CN=system:node:sn-a, O=system:nodes", KubeCredentialChecks.ClientAuth);
        var yaml = Kubeconfig.Render("sn-a", "https://api.lab:6443", "system:node:sn-a", ca.Cert.ExportCertificatePem(), client.ExportCertificatePem(), KeyPem(client));
        checks.Kubeconfig("kubelet.conf", yaml, ca.Cert, "https://api.lab:6443", "system:node:sn-a", ["system:nodes"]);
        Assert.Empty(checks.Problems);
    }

    [Fact]
    public void Wrong_subject_missing_sans_wrong_usage_and_a_foreign_ca_are_each_reported()
    {
        var ca = Ca("kubernetes-ca");
        var other = Ca("someone-else");
        var checks = new KubeCredentialChecks(Now);
        using var serving = Issue(other, "CN=apiserver", KubeCredentialChecks.ClientAuth, ["kubernetes"], []);
        checks.Certificate("apiserver", serving, ca.Cert, "kube-apiserver", [], [KubeCredentialChecks.ServerAuth], ["kubernetes", "kubernetes.default.svc"], ["10.96.0.1"]);
        Assert.Contains(checks.Problems, p => p.Contains("CN is 'apiserver'", StringComparison.Ordinal));
        Assert.Contains(checks.Problems, p => p.Contains("serverAuth missing", StringComparison.Ordinal));
        Assert.Contains(checks.Problems, p => p.Contains("does not chain to CN=kubernetes-ca", StringComparison.Ordinal));
        Assert.Contains(checks.Problems, p => p.Contains("DNS SAN 'kubernetes.default.svc' missing", StringComparison.Ordinal));
        Assert.Contains(checks.Problems, p => p.Contains("IP SAN 10.96.0.1 missing", StringComparison.Ordinal));
    }

    [Fact]
    public void A_kubeconfig_with_another_server_a_key_of_another_certificate_or_no_group_is_reported()
    {
        var ca = Ca("kubernetes-ca");
        using var client = Issue(ca, "CN=system:node:sn-a", KubeCredentialChecks.ClientAuth);
        using var stranger = Issue(ca, "CN=x", KubeCredentialChecks.ClientAuth);
        var checks = new KubeCredentialChecks(Now);
        checks.Kubeconfig("wrong server, no group", Kubeconfig.Render("c", "https://127.0.0.1:6443", "u", ca.Cert.ExportCertificatePem(), client.ExportCertificatePem(), KeyPem(client)),
            ca.Cert, "https://api.lab:6443", "system:node:sn-a", ["system:nodes"]);
        Assert.Contains(checks.Problems, p => p.Contains("server is 'https://127.0.0.1:6443'", StringComparison.Ordinal));
        Assert.Contains(checks.Problems, p => p.Contains("O is []", StringComparison.Ordinal));

        var mismatch = new KubeCredentialChecks(Now);
        mismatch.Kubeconfig("key of another certificate", Kubeconfig.Render("c", "https://api.lab:6443", "u", ca.Cert.ExportCertificatePem(), client.ExportCertificatePem(), KeyPem(stranger)),
            ca.Cert, "https://api.lab:6443", "system:node:sn-a", []);
        Assert.Contains(mismatch.Problems, p => p.Contains("unusable", StringComparison.Ordinal));

        var broken = new KubeCredentialChecks(Now);
        broken.Kubeconfig("no context", "apiVersion: v1\nkind: Config\ncurrent-context: nothing\n", ca.Cert, "https://api.lab:6443", "x", []);
        Assert.Contains(broken.Problems, p => p.Contains("names no context", StringComparison.Ordinal));
    }

    [Fact]
    public void Flags_missing_different_or_refused_are_reported()
    {
        var record = JsonNode.Parse("""{"flags":{"authorization-mode":"Node,RBAC","secure-port":"6443","cluster-cidr":"10.0.0.0/8"},"fatal":"unknown flag: --x"}""")!;
        var checks = new KubeCredentialChecks(Now);
        checks.Flags("c", record, new Dictionary<string, string?>
        {
            ["authorization-mode"] = "~RBAC",
            ["secure-port"] = null,
            ["cluster-cidr"] = "10.244.0.0/16",
            ["kubeconfig"] = null,
        });
        Assert.Equal(
        [
            "c: --cluster-cidr=10.0.0.0/8, expected 10.244.0.0/16",
            "c: --kubeconfig missing",
            "c: the stand-in refused to start: unknown flag: --x",
        ], checks.Problems);
    }
}
