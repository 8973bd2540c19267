using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>
/// The watch-fed cache recovers from an etcd restart (resume from the last revision) and from compaction past
/// its revision (fresh snapshot). Each test runs its own etcd; a TCP proxy puts a real partition in between.
/// </summary>
public sealed class InventoryCacheTests
{
    private static MachineSpec Spec(string serial, int n) => new() { Serial = serial, Macs = [$"52:54:00:05:00:{n:x2}"] };

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task AfterEtcdRestart_TheCacheResumes_AndSeesNewChanges()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var prefix = EtcdFixture.NewPrefix();
        await using var reader = await InventoryHarness.StartAsync(etcd.Endpoint, prefix);
        await using (var writer = await InventoryHarness.StartAsync(etcd.Endpoint, prefix))
        {
            await writer.Machines.RegisterAsync(Spec("BEFORE", 1), "test", default);
        }

        await Eventually(() => reader.Cache.GetMachine("BEFORE") is not null, "the first machine in the cache");
        await etcd.StopProcessAsync();
        await Eventually(() => !reader.Cache.IsWatching, "the watch to notice etcd is gone");
        await etcd.StartProcessAsync();

        await using (var writer = await InventoryHarness.StartAsync(etcd.Endpoint, prefix))
        {
            await writer.Machines.RegisterAsync(Spec("AFTER", 2), "test", default);
            await writer.Machines.SetStateAsync("BEFORE", MachineState.Healthy, null, "test", default);
        }

        await Eventually(() => reader.Cache.GetMachine("AFTER") is not null, "the machine written after the restart");
        await Eventually(() => reader.Cache.GetMachine("BEFORE")?.State == MachineState.Healthy, "the state change");
        Assert.Equal(1, reader.Cache.Loads); // resumed, not reloaded
        Assert.True(reader.Cache.Resumes >= 1);
    }

    [Fact]
    public async Task AfterCompactionPastItsRevision_TheCacheReloads_IncludingDeletes()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var proxy = new TcpProxy(etcd.ClientPort);
        var prefix = EtcdFixture.NewPrefix();
        await using var writer = await InventoryHarness.StartAsync(etcd.Endpoint, prefix);
        await using var reader = await InventoryHarness.StartAsync(proxy.Endpoint, prefix);

        await writer.Machines.RegisterAsync(Spec("GONE", 1), "test", default);
        await writer.Machines.SetStateAsync("GONE", MachineState.Retiring, null, "test", default);
        await writer.Machines.SetStateAsync("GONE", MachineState.Retired, null, "test", default);
        await Eventually(() => reader.Cache.GetMachine("GONE")?.State == MachineState.Retired, "the retired machine in the cache");

        proxy.Cut(); // a partition: the reader's watch breaks and cannot reconnect
        await Eventually(() => !reader.Cache.IsWatching, "the watch to break");
        await writer.Machines.DeleteAsync("GONE", "test", default);
        var created = await writer.Machines.RegisterAsync(Spec("NEW", 2), "test", default);
        await writer.Store.CompactAsync(created.Revision, default);
        proxy.Restore();

        await Eventually(() => reader.Cache.GetMachine("NEW") is not null, "the machine written during the partition");
        Assert.Null(reader.Cache.GetMachine("GONE")); // a delete it never saw as an event
        Assert.Null(reader.Cache.OwnerOfMac("52:54:00:05:00:01"));
        Assert.Equal(2, reader.Cache.Loads);
        Assert.True(reader.Cache.Revision >= created.Revision);
    }

    [Fact]
    public async Task WhileEtcdIsDown_WritesFailAsTransient_AndNothingIsHalfWritten()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var prefix = EtcdFixture.NewPrefix();
        await using var inv = await InventoryHarness.StartAsync(etcd.Endpoint, prefix);
        await etcd.StopProcessAsync();

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => inv.Machines.RegisterAsync(Spec("DOWN", 3), "test", default));
        Assert.True(e.IsTransient);

        await etcd.StartProcessAsync();

        // The client's channel may still be in its reconnect back-off (calls fail fast as unavailable until it
        // reconnects): read again as any caller would, for a bounded time.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var keys = await inv.Store.GetPrefixAsync(prefix + "machines/", default);
                Assert.Empty(keys.Kvs);
                break;
            }
            catch (StoreUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
