using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki.BuiltIn;
using NekkoMetal.Pki.Renewal;
using NekkoMetal.Pki.Vault;
using Quartz;

namespace NekkoMetal.Pki;

public static class PkiServiceCollectionExtensions
{
    /// <summary>
    /// Registers the PKI: <see cref="ICertificateIssuer"/> (Vault when <see cref="PkiOptions.Vault"/> is set, else the
    /// built-in CA, which needs the inventory's <see cref="EtcdStore"/>), <see cref="ServedCertificates"/>, a hosted
    /// service that initialises both at start, and the Quartz renewal job. The host adds
    /// <c>AddQuartzHostedService()</c> once for all its jobs. <paramref name="options"/> is resolved lazily (the data
    /// directory and etcd may be known only once the host runs) and validated on first use.
    /// </summary>
    public static IServiceCollection AddNekkoPki(this IServiceCollection services, Func<IServiceProvider, PkiOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => options(sp).EnsureValid());
        services.AddSingleton(sp =>
        {
            var vault = sp.GetRequiredService<PkiOptions>().Vault ?? throw new InvalidOperationException("the PKI is not configured for Vault");
            return new VaultClient(CreateVaultHttpClient(vault), vault, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<VaultClient>>());
        });
        services.AddSingleton<ICertificateIssuer>(sp =>
        {
            var o = sp.GetRequiredService<PkiOptions>();
            return o.Vault is { } vault
                ? new VaultCertificateIssuer(sp.GetRequiredService<VaultClient>(), vault)
                : new BuiltInCertificateIssuer(sp.GetRequiredService<EtcdStore>(), o, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<BuiltInCertificateIssuer>>());
        });
        services.AddSingleton<ServedCertificates>();
        services.AddHostedService<PkiStartup>();
        services.AddQuartz(q => q.ScheduleJob<CertificateRenewalJob>(
            (sp, trigger) =>
            {
                var interval = sp.GetRequiredService<PkiOptions>().RenewalCheckInterval;
                trigger.WithIdentity(CertificateRenewalJob.Name)
                    .StartAt(sp.GetRequiredService<TimeProvider>().GetUtcNow() + interval)
                    .WithSimpleSchedule(interval);
            },
            (_, job) => job.WithIdentity(CertificateRenewalJob.Name)));
        return services;
    }

    /// <inheritdoc cref="AddNekkoPki(IServiceCollection, Func{IServiceProvider, PkiOptions})"/>
    public static IHostApplicationBuilder AddNekkoPki(this IHostApplicationBuilder builder, Func<IServiceProvider, PkiOptions> options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddNekkoPki(options);
        return builder;
    }

    /// <summary>
    /// Registers a certificate this process serves or presents (e.g. <c>"https"</c> from the boot-server CA),
    /// issued at start and renewed at two thirds of its lifetime. Hand <see cref="ServedCertificates.KestrelSelector"/>
    /// to Kestrel's <c>ServerCertificateSelector</c>.
    /// </summary>
    public static IServiceCollection AddServedCertificate(this IServiceCollection services, string use, CaKind ca, Func<IServiceProvider, CertificateProfile> profile)
    {
        ArgumentException.ThrowIfNullOrEmpty(use);
        ArgumentNullException.ThrowIfNull(profile);
        services.AddSingleton(sp => new ServedCertificateRegistration(use, ca, () => profile(sp)));
        return services;
    }

    /// <summary>
    /// The HttpClient for Vault: pooled connections recycled every few minutes (DNS changes), and Vault's own TLS
    /// certificate checked against <see cref="VaultOptions.CaCertificateFile"/> when one is given.
    /// </summary>
    internal static HttpClient CreateVaultHttpClient(VaultOptions options)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) };
        if (options.CaCertificateFile is { } caFile)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                errors == SslPolicyErrors.None ||
                (errors == SslPolicyErrors.RemoteCertificateChainErrors && cert is X509Certificate2 c && CertificateChecks.ValidateChain(c, roots).Count == 0);
        }

        // deadlines are per request, on the TimeProvider (VaultOptions.RequestTimeout)
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
