using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.KubeInstaller.Tests;
using NekkoMetal.TestKit;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "etcd";
}

/// <summary>The executor's two etcd stores against a real etcd: host-key pins (create-if-absent) and the bounded history.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdStoresTests(EtcdFixture etcd) : IDisposable
{
    private readonly EtcdStore _store = new(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = EtcdFixture.NewPrefix() });

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task The_first_host_key_is_pinned_and_a_later_one_never_replaces_it()
    {
        var pins = new EtcdHostKeyStore(_store, TimeProvider.System);
        Assert.Null(await pins.GetAsync("SN-1", default));
        Assert.Equal("first", await pins.PinAsync("SN-1", "first", default));
        Assert.Equal("first", await pins.PinAsync("SN-1", "second", default)); // the CAS lost: the pinned key stands
        Assert.Equal("first", await pins.GetAsync("SN-1", default));
        Assert.Null(await pins.GetAsync("SN-2", default));
        Assert.True(await pins.ForgetAsync("SN-1", default));
        Assert.False(await pins.ForgetAsync("SN-1", default));
        Assert.Equal("third", await pins.PinAsync("SN-1", "third", default));
    }

    [Fact]
    public async Task Of_racing_first_contacts_exactly_one_key_wins_and_every_racer_sees_it()
    {
        var pins = new EtcdHostKeyStore(_store, TimeProvider.System);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => pins.PinAsync("SN-race", $"key{i}", default)));
        Assert.Single(results.Distinct());
        Assert.Equal(results[0], await pins.GetAsync("SN-race", default));
    }

    private static OperationRecord Record(int i) => new(ClusterPhase.EtcdCluster, OperationKind.StartUnit, ["cp1"], $"op {i}",
        Scenario.Now.AddSeconds(i), Scenario.Now.AddSeconds(i).AddMilliseconds(5), OperationOutcome.Succeeded, null);

    [Fact]
    public async Task History_keeps_the_newest_entries_in_order_up_to_its_bound()
    {
        var history = new EtcdOperationHistory(_store, maxEntries: 5);
        for (var i = 0; i < 8; i++)
        {
            await history.RecordAsync(Record(i), default);
        }

        var list = await history.ListAsync(100, default);
        Assert.Equal(["op 3", "op 4", "op 5", "op 6", "op 7"], list.Select(r => r.Description));
        Assert.Equal(OperationKind.StartUnit, list[0].Kind);
        Assert.Equal(["op 6", "op 7"], (await history.ListAsync(2, default)).Select(r => r.Description));
    }
}
