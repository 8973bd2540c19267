using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.TestKit;

/// <summary>
/// The inventory wired as a boot server wires it (DI, hosted cache), against a real etcd and one key prefix.
/// Several harnesses on one prefix behave like several boot servers.
/// </summary>
public sealed class InventoryHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly InventoryCache _cache;

    private InventoryHarness(ServiceProvider services)
    {
        _services = services;
        _cache = services.GetRequiredService<InventoryCache>();
    }

    public IServiceProvider Services => _services;
    public InventoryCache Cache => _services.GetRequiredService<InventoryCache>();
    public MachineRepository Machines => _services.GetRequiredService<MachineRepository>();
    public IpamRepository Ipam => _services.GetRequiredService<IpamRepository>();
    public TokenRepository Tokens => _services.GetRequiredService<TokenRepository>();
    public EtcdStore Store => _services.GetRequiredService<EtcdStore>();

    public static async Task<InventoryHarness> StartAsync(string endpoint, string prefix, TimeProvider? time = null, string defaultSubnet = "10.69.0.0/24")
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        // A fake clock never lets the DHCP group-commit window end by itself: no window then (real time: the default).
        var commitWindow = time is null || time == TimeProvider.System ? new InventoryOptions().DhcpCommitWindow : TimeSpan.Zero;
        services.AddInventory(_ => new InventoryOptions { Endpoints = [endpoint], Prefix = prefix, DefaultSubnet = defaultSubnet, DhcpCommitWindow = commitWindow });
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<SchemaInitializer>().EnsureAsync(CancellationToken.None);
        var harness = new InventoryHarness(provider);
        await harness._cache.StartAsync(CancellationToken.None);
        await harness.Cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(30));
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        await _cache.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
