using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Pki;
using NekkoMetal.Pki.Renewal;

namespace NekkoMetal.BootServer.Tls;

/// <summary>
/// The boot-server HTTPS CA chain in PEM (issuing CA first, root last): written to <c>DATA_DIR/ca.pem</c> at start
/// (after the PKI has initialised, before Kestrel listens) and whenever a renewal brings another chain, for nekkoctl
/// and users to trust; handed to rendered profiles as <c>ca_bundle</c>.
/// </summary>
public sealed partial class CaBundle(ICertificateIssuer issuer, ServedCertificates served, IOptions<BootServerOptions> options, ILogger<CaBundle> logger) : IHostedService
{
    private volatile string _pem = "";

    /// <summary>The chain in PEM; empty until the host has started.</summary>
    public string Pem => _pem;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var chain = await issuer.GetCaChainAsync(CaKind.BootServerHttps, cancellationToken);
        try
        {
            Write(chain);
        }
        finally
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }
        }

        if (options.Value.InsecureHttpApi)
        {
            LogInsecure(options.Value.HttpUrl);
        }

        served.Renewed += (use, issued) =>
        {
            if (use == TlsHostingExtensions.HttpsUse)
            {
                Write(issued.Chain);
            }
        };
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static string ToPem(IEnumerable<X509Certificate2> chain) =>
        string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n"));

    private void Write(IReadOnlyList<X509Certificate2> chain)
    {
        var pem = ToPem(chain);
        if (pem == _pem)
        {
            return;
        }

        _pem = pem;
        var path = options.Value.CaBundleFile;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, pem);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(temp, path, overwrite: true);
        LogWritten(path, chain[^1].Subject, chain[^1].Thumbprint);
    }

    [LoggerMessage(EventIds.InsecureHttpApi, LogLevel.Warning, "INSECURE: --insecure-http-api is set: the admin and agent API also answer on plain HTTP at {HttpUrl}, where tokens and keys cross the network in the clear. Use it in a closed lab only")]
    private partial void LogInsecure(string httpUrl);

    [LoggerMessage(EventIds.CaBundleWritten, LogLevel.Information, "Wrote the boot-server HTTPS CA to {Path} (root {Subject}, SHA-1 {Thumbprint}); nekkoctl trusts it from there")]
    private partial void LogWritten(string path, string subject, string thumbprint);
}
