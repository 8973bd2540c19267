using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NekkoMetal.TestKit;

/// <summary>
/// What a test needs to run boot servers with the PKI: a key-encryption key shared by every boot server of one etcd
/// prefix (as an operator copies DATA_DIR/pki-kek to each), and HTTP clients that trust a server's DATA_DIR/ca.pem.
/// </summary>
public static class BootServerTrust
{
    public const string KekFileName = "pki-kek";

    /// <summary>
    /// Writes DATA_DIR/pki-kek (mode 0600) derived from <paramref name="prefix"/>, so every boot server started on that
    /// prefix opens the same built-in CA (a test key, never for real use).
    /// </summary>
    public static void WriteSharedKek(string dataDir, string prefix)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, KekFileName);
        File.WriteAllBytes(path, SHA256.HashData(Encoding.UTF8.GetBytes("nekko-test-kek:" + prefix)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>The certificates of DATA_DIR/ca.pem.</summary>
    public static X509Certificate2Collection CaCertificates(string dataDir)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(Path.Combine(dataDir, "ca.pem"));
        return certificates;
    }

    /// <summary>A handler that accepts the server's certificate only if it chains to DATA_DIR/ca.pem and names the host.</summary>
    public static SocketsHttpHandler Handler(string dataDir, bool allowAutoRedirect = true)
    {
        var roots = CaCertificates(dataDir);
        var handler = new SocketsHttpHandler { AllowAutoRedirect = allowAutoRedirect };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) => Validate(roots, cert, errors);
        return handler;
    }

    public static bool Validate(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }
}
