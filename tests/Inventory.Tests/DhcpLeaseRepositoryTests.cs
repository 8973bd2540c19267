using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Inventory.Dhcp;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>DHCP leases in a real etcd, with RFC 2131 semantics and several boot servers.</summary>
[Collection(EtcdCollection.Name)]
public sealed class DhcpLeaseRepositoryTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
    private InventoryHarness _inv = null!;
    private static readonly uint Link = Parse("10.50.0.254");

    private static uint Parse(string ip) => Ipv4.TryParse(ip, out var a) ? a : throw new ArgumentException(ip);

    private static DhcpLeaseRepository Leases(InventoryHarness h) => h.Services.GetRequiredService<DhcpLeaseRepository>();

    public async Task InitializeAsync()
    {
        _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix(), _time);
        await _inv.Ipam.SetAsync(new IpamConfig
        {
            Subnets =
            [
                new IpamSubnet
                {
                    Name = "lab", Cidr = "10.50.0.0/16", Gateway = "10.50.0.254", Dns = ["10.50.0.254"],
                    RangeStart = "10.50.0.1", RangeEnd = "10.50.0.200",
                    DhcpRangeStart = "10.50.1.0", DhcpRangeEnd = "10.50.4.255", LeaseSeconds = 600,
                },
            ],
        }, "test", default);
    }

    public async Task DisposeAsync() => await _inv.DisposeAsync();

    [Fact]
    public async Task KnownMachine_GetsItsInventoryAddress_AndNothingIsWritten()
    {
        var m = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "KNOWN-1", Macs = ["52:54:00:40:00:01"] }, "test", default);
        var offer = await Leases(_inv).OfferAsync("mac:52:54:00:40:00:01", "52:54:00:40:00:01", Link, null, null, default);
        Assert.Equal(DhcpLeaseOutcome.Granted, offer.Outcome);
        Assert.Equal(m.Ipv4.Single(), Ipv4.Format(offer.Address));
        Assert.Equal("known-1", offer.HostName);
        var ack = await Leases(_inv).RequestAsync("mac:52:54:00:40:00:01", "52:54:00:40:00:01", Link, offer.Address, null, default);
        Assert.Equal(DhcpLeaseOutcome.Granted, ack.Outcome);
        var nak = await Leases(_inv).RequestAsync("mac:52:54:00:40:00:01", "52:54:00:40:00:01", Link, Parse("10.50.1.7"), null, default);
        Assert.Equal(DhcpLeaseOutcome.Nak, nak.Outcome);
        Assert.Equal(0, _inv.Cache.LeaseCount);
    }

    [Fact]
    public async Task UnknownClient_Dora_Renew_Release()
    {
        var leases = Leases(_inv);
        var offer = await leases.OfferAsync("c1", "52:54:00:40:01:01", Link, null, "pc", default);
        Assert.Equal("10.50.1.0", Ipv4.Format(offer.Address));
        Assert.Equal(TimeSpan.FromSeconds(600), offer.LeaseTime);
        var again = await leases.OfferAsync("c1", "52:54:00:40:01:01", Link, null, "pc", default);
        Assert.Equal(offer.Address, again.Address); // a repeated DISCOVER gets the same address

        var ack = await leases.RequestAsync("c1", "52:54:00:40:01:01", Link, offer.Address, "pc", default);
        Assert.Equal(DhcpLeaseOutcome.Granted, ack.Outcome);
        Assert.Equal(DhcpLeaseState.Bound, _inv.Cache.Lease(offer.Address)!.State);

        var other = await leases.OfferAsync("c2", "52:54:00:40:01:02", Link, offer.Address, null, default);
        Assert.NotEqual(offer.Address, other.Address); // requested address is taken: the next free one
        var stolen = await leases.RequestAsync("c2", "52:54:00:40:01:02", Link, offer.Address, null, default);
        Assert.Equal(DhcpLeaseOutcome.Nak, stolen.Outcome);

        _time.Advance(TimeSpan.FromSeconds(300));
        var renew = await leases.RequestAsync("c1", "52:54:00:40:01:01", Link, offer.Address, null, default);
        Assert.Equal(DhcpLeaseOutcome.Granted, renew.Outcome);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(600), _inv.Cache.Lease(offer.Address)!.ExpiresAt);

        await leases.ReleaseAsync("c1", offer.Address, default);
        Assert.Equal(DhcpLeaseState.Released, _inv.Cache.Lease(offer.Address)!.State);
        var reuse = await leases.OfferAsync("c3", "52:54:00:40:01:03", Link, offer.Address, null, default);
        Assert.Equal(offer.Address, reuse.Address); // released: free for whoever asks for it
    }

    [Fact]
    public async Task Offers_AreHeldInMemory_AndNextFit_AndReleasedAddressesComeBackAfterARescan()
    {
        var leases = Leases(_inv);
        var first = await leases.OfferAsync("n1", "52:54:00:40:05:01", Link, null, null, default);
        var second = await leases.OfferAsync("n2", "52:54:00:40:05:02", Link, null, null, default);
        Assert.Equal(first.Address + 1, second.Address);
        Assert.Equal(0, _inv.Cache.LeaseCount); // an offer writes no lease

        // the offer is held: another client asking for it gets another address, and a REQUEST for it is a NAK
        var other = await leases.OfferAsync("n3", "52:54:00:40:05:03", Link, first.Address, null, default);
        Assert.NotEqual(first.Address, other.Address);
        Assert.Equal(DhcpLeaseOutcome.Nak, (await leases.RequestAsync("n3", "52:54:00:40:05:03", Link, first.Address, null, default)).Outcome);

        // withdrawn (the client chose another server): free at once
        leases.WithdrawOffer("n1");
        Assert.Equal(DhcpLeaseOutcome.Granted, (await leases.RequestAsync("n3", "52:54:00:40:05:03", Link, first.Address, null, default)).Outcome);

        // an offer not taken lapses after its hold
        _time.Advance(DhcpLeaseRepository.OfferHold + TimeSpan.FromSeconds(1));
        Assert.Equal(DhcpLeaseOutcome.Granted, (await leases.RequestAsync("n4", "52:54:00:40:05:04", Link, second.Address, null, default)).Outcome);
    }

    [Fact]
    public async Task Blocks_AreClaimedInEtcd_WithALease_AndGivenBackOnDispose()
    {
        var leases = Leases(_inv);
        await leases.OfferAsync("b1", "52:54:00:40:06:01", Link, null, null, default);
        var claims = await _inv.Store.GetPrefixAsync(_inv.Store.Keys.DhcpBlocksPrefix, default);
        var claim = Assert.Single(claims.Kvs);
        Assert.Equal(_inv.Store.Keys.DhcpBlock("10.50.1.0", "10.50.1.63"), claim.Key.ToStringUtf8()); // 1,024 addresses: blocks of 64
        Assert.NotEqual(0, claim.Lease);
        Assert.Contains(leases.ServerId, claim.Value.ToStringUtf8(), StringComparison.Ordinal);

        await leases.DisposeAsync();
        Assert.Empty((await _inv.Store.GetPrefixAsync(_inv.Store.Keys.DhcpBlocksPrefix, default)).Kvs);
    }

    [Fact]
    public async Task AllOwnBlocksFull_AddressesFreedInOne_AreOfferedAtOnce_WithoutWaitingForARescan()
    {
        await _inv.Ipam.SetAsync(new IpamConfig
        {
            Subnets = [new IpamSubnet { Name = "tiny", Cidr = "10.50.0.0/16", Gateway = "10.50.0.254", RangeStart = "10.50.0.1", RangeEnd = "10.50.0.200", DhcpRangeStart = "10.50.9.0", DhcpRangeEnd = "10.50.9.15", LeaseSeconds = 600 }],
        }, "test", default);
        var leases = Leases(_inv);
        var bound = new List<(string Client, uint Address)>();
        for (var i = 0; i < 16; i++)
        {
            var mac = $"52:54:00:44:00:{i:x2}";
            var offer = await leases.OfferAsync("mac:" + mac, mac, Link, null, null, default);
            Assert.Equal(DhcpLeaseOutcome.Granted, (await leases.RequestAsync("mac:" + mac, mac, Link, offer.Address, null, default)).Outcome);
            bound.Add(("mac:" + mac, offer.Address));
        }

        Assert.Equal(16, bound.Select(b => b.Address).Distinct().Count());
        Assert.Equal(DhcpLeaseOutcome.NoAddress, (await leases.OfferAsync("full", "52:54:00:44:01:00", Link, null, null, default)).Outcome);

        await leases.ReleaseAsync(bound[1].Client, bound[1].Address, default); // in the first block, long marked full
        var rounds = leases.BlockClaimRounds;
        var again = await leases.OfferAsync("late", "52:54:00:44:01:01", Link, null, null, default);
        Assert.Equal(DhcpLeaseOutcome.Granted, again.Outcome);
        Assert.Equal(bound[1].Address, again.Address);
        Assert.InRange(leases.BlockClaimRounds - rounds, 1, 2); // one round takes our own block up again (and one may claim ahead), not one per attempt
        Assert.Equal(4, (await _inv.Store.GetPrefixAsync(_inv.Store.Keys.DhcpBlocksPrefix, default)).Kvs.Count); // 16 addresses: 4 blocks of 4
    }

    [Theory]
    [InlineData(1u, 4u)]
    [InlineData(100u, 4u)]
    [InlineData(1024u, 64u)]
    [InlineData(4096u, 256u)]
    [InlineData(64000u, 256u)]
    public void BlockSize_IsAboutASixteenthOfTheRange_Between4And256(uint range, uint expected) =>
        Assert.Equal(expected, DhcpAddressBlocks.BlockSize(range));

    [Fact]
    public async Task GroupCommit_ManyConcurrentRequests_FewTransactions_EveryLeaseDurable()
    {
        var leases = Leases(_inv);
        var before = leases.CommitTransactions;
        var offers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var mac = $"52:54:00:42:{i / 256:x2}:{i % 256:x2}";
            return (mac, offer: await leases.OfferAsync("mac:" + mac, mac, Link, null, null, default));
        }));
        var acks = await Task.WhenAll(offers.Select(o => leases.RequestAsync("mac:" + o.mac, o.mac, Link, o.offer.Address, null, default)));

        Assert.All(acks, a => Assert.Equal(DhcpLeaseOutcome.Granted, a.Outcome));
        Assert.Equal(300, acks.Select(a => a.Address).Distinct().Count());
        var sent = leases.CommitTransactions - before;
        Assert.InRange(sent, 3, 299); // grouped: at most 100 per transaction, and fewer transactions than leases
        var stored = await _inv.Store.RangeAllAsync(_inv.Store.Keys.DhcpLeasesPrefix, 0, default);
        Assert.Equal(300, stored.Kvs.Count(kv => kv.Value.ToStringUtf8().Contains("\"bound\"", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DeclinedAddress_IsQuarantined_ThenReturns()
    {
        var leases = Leases(_inv);
        var offer = await leases.OfferAsync("d1", "52:54:00:40:02:01", Link, null, null, default);
        await leases.RequestAsync("d1", "52:54:00:40:02:01", Link, offer.Address, null, default);
        await leases.DeclineAsync("d1", offer.Address, default);

        var next = await leases.OfferAsync("d2", "52:54:00:40:02:02", Link, offer.Address, null, default);
        Assert.NotEqual(offer.Address, next.Address);
        var forced = await leases.RequestAsync("d2", "52:54:00:40:02:02", Link, offer.Address, null, default);
        Assert.Equal(DhcpLeaseOutcome.Nak, forced.Outcome);

        _time.Advance(DhcpLeaseRepository.Quarantine + TimeSpan.FromSeconds(1));
        var later = await leases.OfferAsync("d3", "52:54:00:40:02:03", Link, offer.Address, null, default);
        Assert.Equal(offer.Address, later.Address);
    }

    [Fact]
    public async Task WrongNetwork_And_NoRange_AreRefused()
    {
        var leases = Leases(_inv);
        Assert.Equal(DhcpLeaseOutcome.NoAddress, (await leases.OfferAsync("x", "52:54:00:40:03:01", Parse("192.168.9.1"), null, null, default)).Outcome);
        Assert.Equal(DhcpLeaseOutcome.Nak, (await leases.RequestAsync("x", "52:54:00:40:03:01", Link, Parse("192.168.9.5"), null, default)).Outcome);
        Assert.Equal(DhcpLeaseOutcome.Nak, (await leases.RequestAsync("x", "52:54:00:40:03:01", Link, Parse("10.50.0.5"), null, default)).Outcome);
    }

    [Fact]
    public async Task CommitWindow_GathersRequestsThatArriveApart_IntoOneTransaction()
    {
        await using var real = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix()); // real clock: the 10 ms window
        await real.Ipam.SetAsync(new IpamConfig
        {
            Subnets = [new IpamSubnet { Name = "lab", Cidr = "10.50.0.0/16", RangeStart = "10.50.0.1", RangeEnd = "10.50.0.200", DhcpRangeStart = "10.50.1.0", DhcpRangeEnd = "10.50.4.255" }],
        }, "test", default);
        var leases = Leases(real);
        var offers = new List<(string Mac, uint Address)>();
        for (var i = 0; i < 20; i++)
        {
            var mac = $"52:54:00:43:00:{i:x2}";
            offers.Add((mac, (await leases.OfferAsync("mac:" + mac, mac, Link, null, null, default)).Address));
        }

        var before = leases.CommitTransactions;
        var acks = new List<Task<DhcpLeaseAnswer>>();
        foreach (var (mac, address) in offers)
        {
            acks.Add(leases.RequestAsync("mac:" + mac, mac, Link, address, null, default));
            await Task.Yield(); // requests arrive one after another, not as one burst
        }

        Assert.All(await Task.WhenAll(acks), a => Assert.Equal(DhcpLeaseOutcome.Granted, a.Outcome));
        Assert.InRange(leases.CommitTransactions - before, 1, 5);
    }

    [Fact]
    public async Task FiveHundredClients_TwoBootServers_NoAddressTwice()
    {
        await using var other = await InventoryHarness.StartAsync(etcd.Endpoint, _inv.Store.Keys.Prefix, _time);
        await other.Cache.WaitForRevisionAsync(_inv.Cache.Revision, TimeSpan.FromSeconds(5), default);
        var servers = new[] { Leases(_inv), Leases(other) };

        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(async i =>
        {
            // each client may hear from either server; the REQUEST may go to the other one
            var mac = $"52:54:00:41:{i / 256:x2}:{i % 256:x2}";
            var offer = await servers[i % 2].OfferAsync("mac:" + mac, mac, Link, null, null, default);
            Assert.Equal(DhcpLeaseOutcome.Granted, offer.Outcome);
            var ack = await servers[(i / 2) % 2].RequestAsync("mac:" + mac, mac, Link, offer.Address, null, default);
            Assert.Equal(DhcpLeaseOutcome.Granted, ack.Outcome);
            return (mac, ack.Address);
        }));

        Assert.Equal(500, results.Select(r => r.Address).Distinct().Count());
        var stored = await _inv.Store.RangeAllAsync(_inv.Store.Keys.DhcpLeasesPrefix, 0, default);
        Assert.Equal(500, stored.Kvs.Count);
    }
}
