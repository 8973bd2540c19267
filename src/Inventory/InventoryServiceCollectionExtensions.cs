using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.Inventory;

public static class InventoryServiceCollectionExtensions
{
    /// <summary>
    /// Registers the etcd-backed inventory. <paramref name="options"/> is resolved lazily so a host can fill the
    /// endpoints after it has started an embedded etcd.
    /// </summary>
    public static IServiceCollection AddInventory(this IServiceCollection services, Func<IServiceProvider, InventoryOptions> options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => options(sp));
        services.AddSingleton(sp => new EtcdStore(sp.GetRequiredService<InventoryOptions>()));
        services.AddSingleton<InventoryCache>();
        services.AddHostedService(sp => sp.GetRequiredService<InventoryCache>());
        services.AddSingleton<AuditLog>();
        services.AddSingleton<InventoryContext>();
        services.AddSingleton<MachineRepository>();
        services.AddSingleton<IpamRepository>();
        services.AddSingleton<TokenRepository>();
        services.AddSingleton<SchemaInitializer>();
        services.AddSingleton<Boot.BootstrapTokenRepository>();
        services.AddSingleton<Boot.PendingDiscoveryRepository>();
        services.AddSingleton<Dhcp.DhcpLeaseRepository>();
        services.AddSingleton<Boot.BootProgressRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<Boot.BootProgressRecorder>());
        return services;
    }
}
