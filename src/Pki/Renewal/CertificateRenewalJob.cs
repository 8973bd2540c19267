using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NekkoMetal.Pki.Vault;
using Quartz;

namespace NekkoMetal.Pki.Renewal;

/// <summary>
/// The Quartz job that keeps credentials fresh: renews the Vault token at two thirds of its lease (Vault mode) and
/// every served certificate at two thirds of its lifetime. Runs every <see cref="PkiOptions.RenewalCheckInterval"/>;
/// a failed renewal keeps the old certificate and is tried again on the next run.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class CertificateRenewalJob(ServedCertificates served, PkiOptions options, IServiceProvider services, ILogger<CertificateRenewalJob> logger) : IJob
{
    public const string Name = "nekko-pki-renewal";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        if (options.UsesVault)
        {
            try
            {
                await services.GetRequiredService<VaultClient>().MaintainTokenAsync(cancellationToken);
            }
            catch (VaultException e)
            {
                LogTokenMaintenanceFailed(e, e.IsTransient);
            }
        }

        await served.RenewDueAsync(cancellationToken);
    }

    [LoggerMessage(EventIds.VaultMaintenanceFailed, LogLevel.Warning, "Could not keep the Vault token fresh (transient {Transient}); trying again next run")]
    private partial void LogTokenMaintenanceFailed(Exception e, bool transient);
}
