using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

public class CertificatePhaseTests
{
    private static readonly ClusterDefinition Def = Definition();

    public static TheoryData<string, string, string, OperationKind> Credentials => new()
    {
        { "cp1", "/etc/nekko/pki/etcd/server.crt", "kubernetes-etcd", OperationKind.IssueCertificate },
        { "cp1", "/etc/nekko/pki/etcd/peer.crt", "kubernetes-etcd", OperationKind.IssueCertificate },
        { "cp1", "/etc/nekko/pki/apiserver-etcd-client.crt", "kubernetes-etcd", OperationKind.IssueCertificate },
        { "cp1", "/etc/nekko/pki/apiserver.crt", "kubernetes", OperationKind.IssueCertificate },
        { "cp1", "/etc/nekko/pki/apiserver-kubelet-client.crt", "kubernetes", OperationKind.IssueCertificate },
        { "cp1", "/etc/nekko/kubeconfig/admin.conf", "kubernetes", OperationKind.IssueKubeconfig },
        { "cp1", "/etc/nekko/kubeconfig/controller-manager.conf", "kubernetes", OperationKind.IssueKubeconfig },
        { "cp1", "/etc/nekko/kubeconfig/scheduler.conf", "kubernetes", OperationKind.IssueKubeconfig },
        { "cp2", "/etc/nekko/pki/kubelet.crt", "kubernetes", OperationKind.IssueCertificate },
        { "w1", "/etc/nekko/pki/kubelet.crt", "kubernetes", OperationKind.IssueCertificate },
        { "w1", "/etc/nekko/kubeconfig/kubelet.conf", "kubernetes", OperationKind.IssueKubeconfig },
        { "w2", "/etc/nekko/kubeconfig/kube-proxy.conf", "kubernetes", OperationKind.IssueKubeconfig },
    };

    [Theory]
    [MemberData(nameof(Credentials))]
    public void MissingCredential_IsIssuedFromItsCa(string node, string path, string ca, OperationKind kind)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithCredential(node, path, _ => null);

        var plan = Plan(Def, inventory, observed);

        var op = Assert.Single(plan.Operations);
        Assert.Equal(ClusterPhase.Certificates, op.Phase);
        Assert.Equal(kind, op.Kind);
        Assert.Equal(node, Assert.Single(op.Nodes));
        Assert.Equal(path, op[OperationParameters.Path]);
        Assert.Equal(ca, op[OperationParameters.Ca]);
        Assert.EndsWith("missing)", op.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-30, 60, null)]         // a third of the lifetime used
    [InlineData(-59, 31, null)]         // just under two-thirds
    [InlineData(-61, 29, "expiring")]   // past two-thirds: renew
    [InlineData(-89, 1, "expiring")]
    [InlineData(-91, -1, "expired")]
    public void RenewalWindow_TwoThirdsOfLifetime(int notBeforeDays, int notAfterDays, string? reason)
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithCredential("w1", "/etc/nekko/pki/kubelet.crt",
            c => c with { NotBefore = Now.AddDays(notBeforeDays), NotAfter = Now.AddDays(notAfterDays) });

        var plan = Plan(Def, inventory, observed);

        if (reason is null)
        {
            Assert.True(plan.IsConverged);
        }
        else
        {
            Assert.Equal([$"w1: issue kubelet certificate /etc/nekko/pki/kubelet.crt (ca kubernetes, {reason})"], plan.Descriptions());
        }
    }

    [Fact]
    public void ApiServerCertificate_NamesTheServiceAddressAndDnsNames()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithCredential("cp2", "/etc/nekko/pki/apiserver.crt", _ => null);

        var op = Assert.Single(Plan(Def, inventory, observed).Operations);

        Assert.Equal(
            "kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local,cp2,10.0.0.12,10.96.0.1,localhost,127.0.0.1",
            op[OperationParameters.SubjectAltNames]);
        Assert.Equal("server", op[OperationParameters.Usage]);
    }

    [Fact]
    public void CertificateWithoutCurrentAddress_IsReissued()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithCredential("cp1", "/etc/nekko/pki/etcd/peer.crt", c => c with { SubjectAltNames = ["cp1", "10.0.0.99"] });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["cp1: issue etcd-peer certificate /etc/nekko/pki/etcd/peer.crt (ca kubernetes-etcd, names changed)"], plan.Descriptions());
    }

    [Fact]
    public void KubeconfigPointingElsewhere_IsReissued()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithCredential("w2", "/etc/nekko/kubeconfig/kubelet.conf", c => c with { Server = "https://10.0.0.99:6443" });

        var op = Assert.Single(Plan(Def, inventory, observed).Operations);

        Assert.Equal(OperationKind.IssueKubeconfig, op.Kind);
        Assert.Equal("https://10.0.0.11:6443", op[OperationParameters.Server]);
        Assert.Equal("system:node:w2", op[OperationParameters.CommonName]);
        Assert.Equal("system:nodes", op[OperationParameters.Organization]);
    }

    [Fact]
    public void ControlPlaneEndpoint_IsUsedByKubeletKubeconfigs()
    {
        var inventory = Inventory();
        var def = Def with { ControlPlaneEndpoint = "https://k8s.lab:6443" };

        var plan = Plan(def, inventory, Converged(Def, inventory));

        Assert.Equal(ClusterPhase.Certificates, plan.Phase);
        Assert.Contains(plan.Operations, o => o.Nodes[0] == "w1" && o[OperationParameters.Server] == "https://k8s.lab:6443");
        Assert.Contains(plan.Operations, o => o.Nodes[0] == "cp1" && o[OperationParameters.SubjectAltNames]!.EndsWith(",k8s.lab", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingServiceAccountKey_IsWritten()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).WithNode("cp3", n => n with
        {
            Files = n.Files.Where(f => f.Key != "/etc/nekko/pki/service-account.key").ToDictionary(),
        });

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["cp3: write service-account key /etc/nekko/pki/service-account.key"], plan.Descriptions());
    }

    [Fact]
    public void UnreachableNode_IsReported_OthersStillIssued()
    {
        var inventory = Inventory();
        var observed = Converged(Def, inventory).Unreachable("w2").WithCredential("w1", "/etc/nekko/pki/kubelet.crt", _ => null);

        var plan = Plan(Def, inventory, observed);

        Assert.Equal(["w1"], plan.Operations.Select(o => o.Nodes[0]).Distinct());
        Assert.Contains("w2: unreachable; certificates not checked", plan.Blockers);
    }
}
