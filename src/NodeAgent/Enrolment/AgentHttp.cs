using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.NodeAgent.Enrolment;

/// <summary>The agent's HTTPS client settings: trust only the boot servers' CA, present the client certificate when one is given.</summary>
internal static class AgentHttp
{
    /// <summary>
    /// A handler that accepts a server certificate only when it chains to <paramref name="caFile"/> (when set; else the
    /// system's roots) and names the host, and presents <paramref name="clientCertificate"/> (with its private key)
    /// when the server asks for one.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(string? caFile, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        var ssl = new SslClientAuthenticationOptions();
        if (!string.IsNullOrEmpty(caFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);

            // Only the boot servers' CA: a certificate the system trusts but that CA did not issue is refused.
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false; // no certificate, or a name mismatch
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return chain.Build(leaf);
            };
        }

        if (clientCertificate is not null)
        {
            // Whatever CA names the server lists: the agent has exactly one identity.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        handler.SslOptions = ssl;
        return handler;
    }
}
