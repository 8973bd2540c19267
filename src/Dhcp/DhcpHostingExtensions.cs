using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Dhcp.Transport;

namespace NekkoMetal.Dhcp;

public static class DhcpHostingExtensions
{
    /// <summary>
    /// The DHCPv4 server, configured from the <paramref name="sectionName"/> section (<see cref="DhcpServerOptions"/>,
    /// validated at start). DHCP stays off unless the section names at least one interface. Authoritative interfaces
    /// need an <see cref="IDhcpLeaseStore"/> registered by the host (the inventory's, in etcd); an
    /// <see cref="IBootProgressSink"/> is optional.
    /// </summary>
    public static IHostApplicationBuilder AddDhcpServer(this IHostApplicationBuilder builder, string sectionName = DhcpServerOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<DhcpServerOptions>().Bind(builder.Configuration.GetSection(sectionName)).ValidateOnStart();
        AddDhcpServerCore(builder.Services);
        return builder;
    }

    /// <summary>The DHCPv4 server with options given in code (validated when the server starts).</summary>
    public static IServiceCollection AddDhcpServer(this IServiceCollection services, DhcpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton<IOptions<DhcpServerOptions>>(Options.Create(options));
        AddDhcpServerCore(services);
        return services;
    }

    private static void AddDhcpServerCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DhcpServerOptions>, DhcpServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IBootProgressSink>(NullBootProgressSink.Instance);
        services.TryAddSingleton<DhcpMetrics>();
        services.TryAddSingleton<DhcpHandler>();
        services.AddHostedService<DhcpServer>();
    }
}
