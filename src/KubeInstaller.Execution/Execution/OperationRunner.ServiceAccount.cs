using System.Text;
using NekkoMetal.KubeInstaller.Execution.Secrets;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Planning;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

public sealed partial class OperationRunner
{
    /// <summary>The cluster's one service-account key pair; without it <c>WriteServiceAccountKey</c> fails clearly.</summary>
    public ServiceAccountKeyStore? ServiceAccountKeys { get; init; }

    /// <summary>
    /// Writes the cluster's service-account private key (PKCS#8 PEM, 0600, atomically) to the path the planner names;
    /// kube-apiserver reads the public half from the same file. The pair is made once per cluster (CAS in etcd) and
    /// the same key goes to every control-plane node, so running this again writes the same bytes.
    /// </summary>
    private async Task WriteServiceAccountKeyAsync(ClusterOperation op, NodeConnection node, CancellationToken ct)
    {
        var keys = ServiceAccountKeys ?? throw new OperationFailedException($"{op.Description}: no service-account key store is configured in this executor");
        var pem = await keys.GetOrCreatePrivateKeyPemAsync(ct);
        await node.WriteFileAsync(Required(op, P.Path), Encoding.ASCII.GetBytes(pem), Convert.ToInt32("600", 8), ct);
    }
}
