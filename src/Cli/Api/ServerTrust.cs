using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.Cli.Api;

/// <summary>
/// Which certificate authority nekkoctl trusts for the boot server's HTTPS: the PEM file of <c>--ca-file</c>, else
/// NEKKO_CA_FILE, else <c>&lt;data dir&gt;/ca.pem</c> (written by the boot server at start). With a CA file the
/// server's chain must lead to a certificate of that file and nothing else (custom root trust: no system store,
/// no downloads) and name the host nekkoctl connected to. Only when no file was named and the default one does not
/// exist is the system trust store used (a boot server with a publicly trusted certificate).
/// </summary>
internal sealed class ServerTrust
{
    private readonly X509Certificate2Collection? _roots;
    private readonly X509Certificate2Collection? _intermediates;

    private ServerTrust(string path, X509Certificate2Collection? roots, X509Certificate2Collection? intermediates)
    {
        CaFile = path;
        _roots = roots;
        _intermediates = intermediates;
    }

    /// <summary>The CA file named or looked for.</summary>
    public string CaFile { get; }

    /// <summary>False when the file was not there and the system store is used.</summary>
    public bool UsesCaFile => _roots is not null;

    /// <summary>Why the last server certificate was refused, for the error message; null when none was.</summary>
    public string? LastRejection { get; private set; }

    /// <summary>Reads the CA file. A file that was named explicitly must exist and hold certificates.</summary>
    public static ServerTrust Load(string path, bool explicitlyNamed)
    {
        const string Fix = "copy DATA_DIR/ca.pem from the boot server and point --ca-file (NEKKO_CA_FILE) or --data-dir (NEKKO_DATA_DIR) at it";
        if (!File.Exists(path))
        {
            return explicitlyNamed
                ? throw new CliUsageException($"CA file {path} does not exist; {Fix}")
                : new ServerTrust(path, null, null);
        }

        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new CliUsageException($"cannot read CA file {path}: {ex.Message}", ex);
        }

        if (all.Count == 0)
        {
            throw new CliUsageException($"CA file {path} holds no PEM certificate; {Fix}");
        }

        // Self-signed certificates are the anchors; an intermediate given alone is trusted as the anchor itself.
        var roots = new X509Certificate2Collection();
        var intermediates = new X509Certificate2Collection();
        foreach (var c in all)
        {
            (c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) ? roots : intermediates).Add(c);
        }

        return roots.Count > 0 ? new ServerTrust(path, roots, intermediates) : new ServerTrust(path, intermediates, []);
    }

    /// <summary>Applies this trust to a handler's TLS settings.</summary>
    public void Configure(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.SslOptions.RemoteCertificateValidationCallback = Validate;
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            LastRejection = "the server sent no certificate";
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            var names = leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false);
            LastRejection = $"the certificate is for other names (subject {leaf.Subject}, first name '{names}'), not the host in the server URL; connect by a name or address the boot server advertises, or add it with its --https-names";
            return false;
        }

        if (_roots is null)
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            LastRejection = $"the certificate is not trusted by this system and there is no CA file at {CaFile}; copy the boot server's DATA_DIR/ca.pem there or pass --ca-file";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.ExtraStore.AddRange(_intermediates!);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"));
        if (chain.Build(leaf))
        {
            LastRejection = null;
            return true;
        }

        var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
        LastRejection = $"the certificate (issuer {leaf.Issuer}) does not chain to the CA in {CaFile} ({status}); " +
            "if the boot server's CA is another one, copy its DATA_DIR/ca.pem again or pass --ca-file";
        return false;
    }
}
