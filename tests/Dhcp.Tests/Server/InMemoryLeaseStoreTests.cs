using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>The reference semantics the etcd-backed store must match (see <see cref="InMemoryLeaseStore"/>).</summary>
public class InMemoryLeaseStoreTests
{
    private static readonly IPAddress Us = IPAddress.Parse("10.215.0.1");
    private static readonly DhcpServerOptions Options = new()
    {
        LeaseTime = TimeSpan.FromMinutes(10),
        OfferHoldTime = TimeSpan.FromSeconds(30),
        DeclineQuarantineTime = TimeSpan.FromHours(1),
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryLeaseStore Store(string start = "10.215.0.100", string end = "10.215.0.150") =>
        new(_time, Options, InMemorySubnet.Parse("10.215.0.0/24", start, end, "10.215.0.1", "10.215.0.1"));

    private static LeaseRequest Client(int n, string? requested = null, string link = "10.215.0.1", byte[]? clientId = null) =>
        new(PhysicalAddress.Parse($"52-54-00-00-00-{n:x2}"), clientId ?? ReadOnlyMemory<byte>.Empty, IPAddress.Parse(link), "br0",
            requested is null ? null : IPAddress.Parse(requested), null, null, Us);

    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    [Fact]
    public async Task Offers_distinct_addresses_and_the_same_one_again_to_a_retransmitting_client()
    {
        var store = Store();

        var a = await store.OfferAsync(Client(1), default);
        var b = await store.OfferAsync(Client(2), default);
        var again = await store.OfferAsync(Client(1), default);

        Assert.Equal(Ip("10.215.0.100"), a.Grant!.Address);
        Assert.Equal(Ip("10.215.0.101"), b.Grant!.Address);
        Assert.Equal(a.Grant.Address, again.Grant!.Address);
        Assert.Equal(Ip("255.255.255.0"), a.Grant.SubnetMask);
        Assert.Equal(Options.LeaseTime, a.Grant.LeaseTime);
    }

    [Fact]
    public async Task Offers_the_requested_address_when_free_but_not_when_held()
    {
        var store = Store();

        var a = await store.OfferAsync(Client(1, requested: "10.215.0.140"), default);
        var b = await store.OfferAsync(Client(2, requested: "10.215.0.140"), default);
        var outside = await store.OfferAsync(Client(3, requested: "192.168.1.5"), default);

        Assert.Equal(Ip("10.215.0.140"), a.Grant!.Address);
        Assert.Equal(Ip("10.215.0.100"), b.Grant!.Address);
        Assert.Equal(Ip("10.215.0.101"), outside.Grant!.Address);
    }

    [Fact]
    public async Task An_offer_hold_lapses_after_the_hold_time()
    {
        var store = Store("10.215.0.100", "10.215.0.100");
        await store.OfferAsync(Client(1), default);

        var whileHeld = await store.OfferAsync(Client(2), default);
        _time.Advance(Options.OfferHoldTime + TimeSpan.FromSeconds(1));
        var afterHold = await store.OfferAsync(Client(2), default);

        Assert.Equal(LeaseOutcome.NoAddress, whileHeld.Outcome);
        Assert.Equal(Ip("10.215.0.100"), afterHold.Grant!.Address);
    }

    [Fact]
    public async Task No_subnet_for_the_link_is_no_address_on_discover_and_not_ours_on_request()
    {
        var store = Store();

        Assert.Equal(LeaseOutcome.NoAddress, (await store.OfferAsync(Client(1, link: "192.168.7.1"), default)).Outcome);
        Assert.Equal(LeaseOutcome.NotOurs, (await store.RequestAsync(Client(1, link: "192.168.7.1"), Ip("192.168.7.5"), false, default)).Outcome);
        Assert.Null(await store.InformAsync(Client(1, link: "192.168.7.1"), default));
    }

    [Fact]
    public async Task Selecting_commits_the_offer_for_the_lease_time()
    {
        var store = Store();
        var offer = await store.OfferAsync(Client(1), default);

        var ack = await store.RequestAsync(Client(1), offer.Grant!.Address, selecting: true, default);

        Assert.Equal(LeaseOutcome.Granted, ack.Outcome);
        var lease = Assert.Single(store.Leases);
        Assert.Equal(InMemoryLeaseStore.LeaseState.Bound, lease.State);
        Assert.Equal(_time.GetUtcNow() + Options.LeaseTime, lease.Expires);
    }

    [Theory]
    [InlineData("192.168.1.20", "not on this network")]
    [InlineData("10.215.0.200", "not in the pool")]
    [InlineData("10.215.0.1", "not in the pool")]
    public async Task Requests_outside_the_pool_are_nakked(string address, string reason)
    {
        var store = Store("10.215.0.1", "10.215.0.150");

        var result = await store.RequestAsync(Client(1), Ip(address), selecting: false, default);

        Assert.Equal(LeaseOutcome.Nak, result.Outcome);
        Assert.Contains(reason, result.Reason);
    }

    [Fact]
    public async Task Init_reboot_without_a_lease_is_nakked_but_selecting_a_free_address_is_granted()
    {
        var store = Store();

        Assert.Equal(LeaseOutcome.Nak, (await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: false, default)).Outcome);
        Assert.Equal(LeaseOutcome.Granted, (await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: true, default)).Outcome);
    }

    [Fact]
    public async Task Another_clients_address_is_nakked_until_its_lease_expires()
    {
        var store = Store();
        await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: true, default);

        var taken = await store.RequestAsync(Client(2), Ip("10.215.0.120"), selecting: true, default);
        _time.Advance(Options.LeaseTime + TimeSpan.FromSeconds(1));
        var expired = await store.RequestAsync(Client(2), Ip("10.215.0.120"), selecting: true, default);
        var originalComesBack = await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: false, default);

        Assert.Equal(LeaseOutcome.Nak, taken.Outcome);
        Assert.Equal(LeaseOutcome.Granted, expired.Outcome);
        Assert.Equal(LeaseOutcome.Nak, originalComesBack.Outcome);
    }

    [Fact]
    public async Task Renewal_extends_the_lease_even_after_expiry_if_nobody_took_the_address()
    {
        var store = Store();
        await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: true, default);
        _time.Advance(TimeSpan.FromMinutes(20));

        var renewed = await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: false, default);

        Assert.Equal(LeaseOutcome.Granted, renewed.Outcome);
        Assert.Equal(_time.GetUtcNow() + Options.LeaseTime, Assert.Single(store.Leases).Expires);
    }

    [Fact]
    public async Task A_client_keeps_its_address_across_leases_and_holds_only_one()
    {
        var store = Store();
        var first = await store.OfferAsync(Client(1), default);
        await store.RequestAsync(Client(1), first.Grant!.Address, selecting: true, default);
        _time.Advance(TimeSpan.FromHours(2));

        var later = await store.OfferAsync(Client(1), default);
        await store.RequestAsync(Client(1), Ip("10.215.0.130"), selecting: true, default);

        Assert.Equal(first.Grant.Address, later.Grant!.Address);
        Assert.Single(store.Leases, l => l.Active);
        Assert.Equal(Ip("10.215.0.130"), store.Leases.Single(l => l.Active).Address);
    }

    [Fact]
    public async Task Client_identifier_not_mac_identifies_the_client()
    {
        var store = Store();
        byte[] id = [0xff, 1, 2, 3, 4];
        await store.RequestAsync(Client(1, clientId: id), Ip("10.215.0.120"), selecting: true, default);

        var sameIdOtherMac = await store.RequestAsync(Client(2, clientId: id), Ip("10.215.0.120"), selecting: false, default);
        var sameMacNoId = await store.RequestAsync(Client(1), Ip("10.215.0.120"), selecting: false, default);

        Assert.Equal(LeaseOutcome.Granted, sameIdOtherMac.Outcome);
        Assert.Equal(LeaseOutcome.Nak, sameMacNoId.Outcome);
    }

    [Fact]
    public async Task Release_frees_the_address_for_others_and_only_the_owner_can_release()
    {
        var store = Store("10.215.0.100", "10.215.0.100");
        await store.RequestAsync(Client(1), Ip("10.215.0.100"), selecting: true, default);

        await store.ReleaseAsync(Client(2), Ip("10.215.0.100"), default);
        var stillTaken = await store.OfferAsync(Client(2), default);
        await store.ReleaseAsync(Client(1), Ip("10.215.0.100"), default);
        var free = await store.OfferAsync(Client(2), default);

        Assert.Equal(LeaseOutcome.NoAddress, stillTaken.Outcome);
        Assert.Equal(Ip("10.215.0.100"), free.Grant!.Address);
    }

    [Fact]
    public async Task Decline_quarantines_the_address_for_the_quarantine_time()
    {
        var store = Store("10.215.0.100", "10.215.0.101");
        await store.RequestAsync(Client(1), Ip("10.215.0.100"), selecting: true, default);

        await store.DeclineAsync(Client(1), Ip("10.215.0.100"), default);
        var offers = new[] { await store.OfferAsync(Client(1), default), await store.OfferAsync(Client(2), default) };
        var request = await store.RequestAsync(Client(3), Ip("10.215.0.100"), selecting: true, default);
        _time.Advance(Options.DeclineQuarantineTime + TimeSpan.FromSeconds(1));
        var afterQuarantine = await store.OfferAsync(Client(3), default);

        Assert.True(offers[0].Grant!.Address.Equals(Ip("10.215.0.101")));
        Assert.Equal(LeaseOutcome.NoAddress, offers[1].Outcome);
        Assert.Equal(LeaseOutcome.Nak, request.Outcome);
        Assert.Equal(Ip("10.215.0.100"), afterQuarantine.Grant!.Address);
    }

    [Fact]
    public async Task The_longest_expired_address_is_reused_when_the_pool_has_no_unused_one()
    {
        var store = Store("10.215.0.100", "10.215.0.101");
        await store.RequestAsync(Client(1), Ip("10.215.0.100"), selecting: true, default);
        _time.Advance(TimeSpan.FromMinutes(1));
        await store.RequestAsync(Client(2), Ip("10.215.0.101"), selecting: true, default);
        _time.Advance(TimeSpan.FromHours(1));

        var offer = await store.OfferAsync(Client(3), default);

        Assert.Equal(Ip("10.215.0.100"), offer.Grant!.Address);
    }

    [Fact]
    public async Task Inform_gives_configuration_for_the_clients_own_address()
    {
        var store = Store();

        var grant = await store.InformAsync(Client(1, requested: "10.215.0.7"), default);

        Assert.Equal(Ip("10.215.0.7"), grant!.Address);
        Assert.Equal(Ip("10.215.0.1"), grant.Router);
    }
}
