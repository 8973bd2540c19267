using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

[Collection(EtcdCollection.Name)]
public sealed class IpamTests(EtcdFixture etcd) : IAsyncLifetime
{
    private InventoryHarness _inv = null!;

    public async Task InitializeAsync() => _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());

    public async Task DisposeAsync() => await _inv.DisposeAsync();

    [Fact]
    public async Task FirstStart_WritesTheDefaultSubnet()
    {
        var config = await _inv.Ipam.GetAsync(default);
        var subnet = Assert.Single(config.Subnets);
        Assert.Equal("10.69.0.0/24", subnet.Cidr);
        Assert.True(config.Revision > 0);
    }

    [Fact]
    public async Task Set_ThenRegistrationsUseTheRange_SkippingTheGateway_UntilExhausted()
    {
        await _inv.Ipam.SetAsync(new IpamConfig
        {
            Subnets = [new IpamSubnet { Name = "lab", Cidr = "192.168.50.0/24", RangeStart = "192.168.50.1", RangeEnd = "192.168.50.3", Gateway = "192.168.50.2" }],
        }, "admin", default);

        var a = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "I1", Macs = ["52:54:00:03:00:01"] }, "admin", default);
        var b = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "I2", Macs = ["52:54:00:03:00:02"] }, "admin", default);
        Assert.Equal("192.168.50.1", a.Ipv4.Single());
        Assert.Equal("192.168.50.3", b.Ipv4.Single());
        Assert.Equal("lab", b.Subnet);

        var e = await Assert.ThrowsAsync<AddressPoolExhaustedException>(() =>
            _inv.Machines.RegisterAsync(new MachineSpec { Serial = "I3", Macs = ["52:54:00:03:00:03"] }, "admin", default));
        Assert.Contains("no free address", e.Message);
        Assert.Null(_inv.Cache.GetMachine("I3"));
    }

    [Fact]
    public async Task Set_InvalidConfig_ListsEveryError_AndKeepsTheOldOne()
    {
        var before = await _inv.Ipam.GetAsync(default);
        var e = await Assert.ThrowsAsync<ValidationException>(() => _inv.Ipam.SetAsync(new IpamConfig
        {
            Subnets =
            [
                new IpamSubnet { Name = "a", Cidr = "10.0.0.1/24" },
                new IpamSubnet { Name = "b", Cidr = "10.1.0.0/24", RangeStart = "10.2.0.1", Gateway = "10.1.0.255" },
                new IpamSubnet { Name = "c", Cidr = "10.1.0.0/16" },
                new IpamSubnet { Name = "c", Cidr = "10.9.0.0/24", Dns = ["not-an-ip"] },
            ],
        }, "admin", default));
        Assert.Equal(
            ["subnets[0].cidr", "subnets[1].gateway", "subnets[1].rangeStart", "subnets[2].cidr", "subnets[3].dns[0]", "subnets[3].name"],
            e.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(before.Revision, (await _inv.Ipam.GetAsync(default)).Revision);
    }

    [Fact]
    public async Task Set_StrandingAMachinesAddress_IsConflict()
    {
        await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "S1", Macs = ["52:54:00:03:01:01"] }, "admin", default);
        var e = await Assert.ThrowsAsync<ConflictException>(() => _inv.Ipam.SetAsync(new IpamConfig
        {
            Subnets = [new IpamSubnet { Name = "other", Cidr = "172.16.0.0/24" }],
        }, "admin", default));
        Assert.Contains("S1 (10.69.0.1)", e.Message);

        // shrinking the range while keeping the subnet is fine: the machine keeps its address
        await _inv.Ipam.SetAsync(new IpamConfig { Subnets = [new IpamSubnet { Name = "default", Cidr = "10.69.0.0/24", RangeStart = "10.69.0.100" }] }, "admin", default);
        var next = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "S2", Macs = ["52:54:00:03:01:02"] }, "admin", default);
        Assert.Equal("10.69.0.100", next.Ipv4.Single());
    }

    [Fact]
    public async Task Set_WithStaleRevision_IsConflict()
    {
        var first = await _inv.Ipam.GetAsync(default);
        await _inv.Ipam.SetAsync(new IpamConfig { Subnets = [new IpamSubnet { Name = "x", Cidr = "10.70.0.0/24" }] }, "admin", default);
        await Assert.ThrowsAsync<ConflictException>(() => _inv.Ipam.SetAsync(
            new IpamConfig { Subnets = [new IpamSubnet { Name = "y", Cidr = "10.71.0.0/24" }], Revision = first.Revision }, "admin", default));
        Assert.Equal("x", (await _inv.Ipam.GetAsync(default)).Subnets.Single().Name);
    }

    [Fact]
    public async Task ConcurrentRegistrations_FromTwoServers_NeverShareAnAddress()
    {
        await using var other = await InventoryHarness.StartAsync(etcd.Endpoint, _inv.Store.Keys.Prefix);
        await _inv.Ipam.SetAsync(new IpamConfig { Subnets = [new IpamSubnet { Name = "big", Cidr = "10.80.0.0/16" }] }, "admin", default);
        await other.Cache.WaitForRevisionAsync(_inv.Cache.Revision, TimeSpan.FromSeconds(5), default);

        var machines = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? _inv : other).Machines.RegisterAsync(
                new MachineSpec { Serial = $"CR{i:D4}", Macs = [$"52:54:00:04:{i / 256:x2}:{i % 256:x2}"] }, "admin", default)));

        Assert.Equal(200, machines.Select(m => m.Ipv4.Single()).Distinct().Count());
        var keys = await _inv.Store.GetPrefixAsync(_inv.Store.Keys.AddressesPrefix, default);
        Assert.Equal(200, keys.Kvs.Count);
    }
}
