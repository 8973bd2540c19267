using Microsoft.Extensions.Hosting;

namespace NekkoMetal.Pki.Renewal;

/// <summary>
/// Readies the PKI when the host starts, before the servers listen (hosted services start in order, Kestrel
/// last): the issuer initialises (a wrong KEK or bad Vault credentials stop the start with a clear error) and every
/// served certificate is issued.
/// </summary>
internal sealed class PkiStartup(ICertificateIssuer issuer, ServedCertificates served) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await issuer.InitializeAsync(cancellationToken);
        await served.EnsureIssuedAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
