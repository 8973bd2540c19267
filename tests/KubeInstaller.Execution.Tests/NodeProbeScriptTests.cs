using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

public sealed class NodeProbeScriptTests
{
    private static string Pem(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sn-a", key, HashAlgorithmName.SHA256);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName("sn-a");
        sans.AddIpAddress(System.Net.IPAddress.Parse("10.1.1.40"));
        request.CertificateExtensions.Add(sans.Build());
        using var cert = request.CreateSelfSigned(notBefore, notAfter);
        return cert.ExportCertificatePem() + "\n";
    }

    [Fact]
    public void Parse_reads_files_units_data_credentials_and_versions()
    {
        var notBefore = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var pem = Pem(notBefore, notBefore.AddDays(365));
        var kubeconfig = Kubeconfig.Render("lab", "https://10.1.1.40:6443", "admin", pem, pem, "key");
        var output = new StringBuilder()
            .Append("#files\n")
            .Append(new string('a', 64)).Append("  /opt/nekko/bin/etcd\n")
            .Append(new string('b', 64)).Append("  /etc/systemd/system/etcd.service\n")
            .Append("#units\n")
            .Append("etcd.service|LoadState=loaded|ActiveState=active|SubState=running|ActiveEnterTimestamp=Wed 2026-11-25 12:00:01.250000 UTC|\n")
            .Append("kubelet.service|LoadState=not-found|ActiveState=inactive|SubState=dead|ActiveEnterTimestamp=n/a|\n")
            .Append("kube-proxy.service|LoadState=loaded|ActiveState=activating|SubState=auto-restart|ActiveEnterTimestamp=|\n")
            .Append("#data\npresent\n")
            .Append("#credentials\n")
            .Append("/etc/nekko/pki/etcd/server.crt 1795953600.500000 ").Append(Convert.ToBase64String(Encoding.ASCII.GetBytes(pem))).Append('\n')
            .Append("/etc/nekko/kubeconfig/admin.conf 1795953600.000000 ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(kubeconfig))).Append('\n')
            .Append("/etc/nekko/pki/broken.crt 1 bm90IGEgY2VydA==\n")
            .Append("#etcd-version\n{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}\n")
            .Append("#etcd-binary\netcd Version: 3.4.23\n#end\n")
            .ToString();

        var probe = NodeProbeScript.Parse(output);

        Assert.Equal(new string('a', 64), probe.Files["/opt/nekko/bin/etcd"]);
        Assert.Equal(2, probe.Files.Count);
        Assert.Equal(UnitState.Active, probe.Units["etcd.service"].State);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 12, 0, 1, 250, TimeSpan.Zero), probe.Units["etcd.service"].ActiveSince);
        Assert.False(probe.Units.ContainsKey("kubelet.service")); // not installed
        Assert.Equal(UnitState.Failed, probe.Units["kube-proxy.service"].State); // crash loop under Restart=always
        Assert.True(probe.EtcdDataPresent);
        var server = probe.Credentials["/etc/nekko/pki/etcd/server.crt"];
        Assert.Equal(notBefore, server.NotBefore);
        Assert.Equal(["sn-a", "10.1.1.40"], server.SubjectAltNames);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795953600500), server.ModifiedAt);
        Assert.Equal("https://10.1.1.40:6443", probe.Credentials["/etc/nekko/kubeconfig/admin.conf"].Server);
        Assert.False(probe.Credentials.ContainsKey("/etc/nekko/pki/broken.crt")); // unreadable = missing: issued again
        Assert.Equal("3.4.23", probe.EtcdRunningVersion);
        Assert.Equal("3.4.23", probe.EtcdBinaryVersion);
    }

    [Fact]
    public void Nothing_installed_parses_to_an_empty_probe()
    {
        var probe = NodeProbeScript.Parse("#files\n#units\n#data\n#credentials\n#etcd-version\n\n#etcd-binary\n#end\n");
        Assert.Empty(probe.Files);
        Assert.Empty(probe.Units);
        Assert.False(probe.EtcdDataPresent);
        Assert.Null(probe.EtcdRunningVersion);
    }

    [Fact]
    public void The_script_checks_every_managed_file_and_unit_and_skips_ca_certificates()
    {
        var script = NodeProbeScript.Render();
        foreach (var component in Enum.GetValues<ClusterComponent>())
        {
            Assert.Contains(component.BinaryPath(), script, StringComparison.Ordinal);
            Assert.Contains(component.UnitName(), script, StringComparison.Ordinal);
        }

        Assert.Contains("*/ca.crt) continue", script, StringComparison.Ordinal);
        Assert.Contains("--timestamp=us+utc", script, StringComparison.Ordinal);
    }
}
