using System.Text;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>Renders a kubeconfig with one cluster, one user (client certificate) and one context, everything embedded.</summary>
public static class Kubeconfig
{
    public static string Render(string clusterName, string server, string user, string caPem, string certificatePem, string keyPem) =>
        $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: {Yaml(clusterName)}
          cluster:
            server: {Yaml(server)}
            certificate-authority-data: {B64(caPem)}
        users:
        - name: {Yaml(user)}
          user:
            client-certificate-data: {B64(certificatePem)}
            client-key-data: {B64(keyPem)}
        contexts:
        - name: default
          context:
            cluster: {Yaml(clusterName)}
            user: {Yaml(user)}
        current-context: default

        """;

    private static string B64(string pem) => Convert.ToBase64String(Encoding.ASCII.GetBytes(pem));

    private static string Yaml(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
