using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Pki;
using NekkoMetal.Pki.Renewal;
using Quartz;

namespace NekkoMetal.BootServer.Tls;

/// <summary>
/// Transport security of the boot server: the PKI (built-in CA, or Vault with <c>--vault-address</c>), the HTTPS
/// certificate (renewed at two thirds of its lifetime by a Quartz job and picked per handshake, so no restart), the
/// two listeners (plain HTTP for firmware, HTTPS for the API), <c>DATA_DIR/ca.pem</c>, and the PKI API.
/// </summary>
public static class TlsHostingExtensions
{
    /// <summary>The served certificate of the HTTPS listener.</summary>
    public const string HttpsUse = "https";

    public static IServiceCollection AddBootServerTls(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<BootServerOptions>, TlsOptionsValidator>();
        services.AddNekkoPki(sp =>
        {
            var o = sp.GetRequiredService<IOptions<BootServerOptions>>().Value;
            return new PkiOptions { DataDirectory = o.DataDir, Vault = VaultSettings.ToVaultOptions(o) };
        });
        services.AddServedCertificate(HttpsUse, CaKind.BootServerHttps, sp => HttpsCertificateNames.Profile(
            sp.GetRequiredService<IOptions<BootServerOptions>>().Value, sp.GetRequiredService<ServerRegistryOptions>().ServerId));
        services.AddSingleton<CaBundle>();
        services.AddHostedService(sp => sp.GetRequiredService<CaBundle>());
        if (!services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(QuartzHostedService)))
        {
            services.AddQuartzHostedService(); // the scheduler of the renewal job, unless the host has added it already
        }

        // Kestrel reads these only when it starts (after the hosted services, so the certificate exists); ASP.NET's
        // in-process test server never does.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<BootServerOptions>, ServedCertificates, IServiceProvider>((k, o, served, sp) =>
        {
            ListenUrl.Parse(o.Value.HttpUrl, "http").Listen(k, l =>
            {
                l.MarkPlainHttp();
                Assets.AssetConnectionPath.Use(l, sp); // keep-alive sendfile downloads of large assets, before Kestrel's HTTP layer
            });
            var selector = served.KestrelSelector(HttpsUse);
            ListenUrl.Parse(o.Value.HttpsUrl, "https").Listen(k, l => l.UseHttps(h =>
            {
                h.ServerCertificateSelector = selector;

                // Agents authenticate with client certificates, admins with bearer tokens on the same port: ask for a
                // certificate, do not require one, and accept any at the handshake — the agent endpoints check it
                // against the agent CA, its validity and the inventory (Agents.AgentCertificateAuthenticator) and
                // answer 401/403 as problem+json, which a failed handshake could not.
                h.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                h.AllowAnyClientCertificate();
            }));
        });
        return services;
    }

    /// <summary>Refuses the API on plain HTTP (unless --insecure-http-api); call before authentication.</summary>
    public static IApplicationBuilder UseBootServerTls(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var o = app.ApplicationServices.GetRequiredService<IOptions<BootServerOptions>>().Value;
        return app.UsePlainHttpGuard(o.InsecureHttpApi ? null : ListenUrl.Parse(o.HttpsUrl, "https").Port);
    }
}
