using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>RFC 2131 §4.1 destinations and the size rule (option 57), as a table.</summary>
public class ReplyRulesTests
{
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    public static TheoryData<string, string, bool, DhcpDestinationKind, string> Destinations() => new()
    {
        // giaddr, ciaddr, broadcast flag → kind, endpoint
        { "10.216.0.1", "0.0.0.0", false, DhcpDestinationKind.RelayAgent, "10.216.0.1:67" },
        { "10.216.0.1", "10.216.0.100", true, DhcpDestinationKind.RelayAgent, "10.216.0.1:67" },
        { "0.0.0.0", "10.215.0.120", false, DhcpDestinationKind.Unicast, "10.215.0.120:68" },
        { "0.0.0.0", "10.215.0.120", true, DhcpDestinationKind.Unicast, "10.215.0.120:68" },
        { "0.0.0.0", "0.0.0.0", true, DhcpDestinationKind.Broadcast, "255.255.255.255:68" },
        { "0.0.0.0", "0.0.0.0", false, DhcpDestinationKind.ClientHardwareAddress, "10.215.0.100:68" },
    };

    [Theory]
    [MemberData(nameof(Destinations))]
    public async Task Offers_and_acks_go_where_rfc_2131_says(string giaddr, string ciaddr, bool broadcast, DhcpDestinationKind kind, string endPoint)
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("dhclient-discover.bin");
        request.RelayAgentIPAddress = Ip(giaddr);
        request.ClientIPAddress = Ip(ciaddr);
        request.IsBroadcast = broadcast;

        var reply = await h.SendAsync(request);

        Assert.Equal(kind, reply!.Destination.Kind);
        Assert.Equal(IPEndPoint.Parse(endPoint), reply.Destination.EndPoint);
        if (kind == DhcpDestinationKind.ClientHardwareAddress)
        {
            Assert.Equal(PhysicalAddress.Parse("0A-C6-92-5B-D1-C7"), reply.Destination.HardwareAddress);
            Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 68), reply.Destination.SendTo);
        }
        else
        {
            Assert.Equal(reply.Destination.EndPoint, reply.Destination.SendTo);
        }
    }

    [Theory]
    [InlineData(false, DhcpDestinationKind.Broadcast)]
    [InlineData(true, DhcpDestinationKind.Broadcast)]
    public async Task A_nak_is_broadcast_even_to_a_client_with_ciaddr(bool broadcastFlag, DhcpDestinationKind kind)
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("udhcpc-request-renewing.bin");
        request.IsBroadcast = broadcastFlag;

        var reply = await h.SendAsync(request);

        Assert.Equal(DhcpMessageType.Nak, reply!.Type);
        Assert.Equal(kind, reply.Destination.Kind);
        Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 68), reply.Destination.EndPoint);
    }

    [Fact]
    public async Task The_client_port_is_configurable()
    {
        var h = new HandlerHarness(new DhcpServerOptions { ClientPort = 1068 });

        var reply = await h.SendAsync(HandlerHarness.Golden("ovmf-pxe-discover.bin"));

        Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 1068), reply!.Destination.EndPoint);
    }

    /// <summary>A store that grants a lease with far too many DNS servers.</summary>
    private sealed class BigGrantStore : IDhcpLeaseStore
    {
        private static readonly LeaseGrant Grant = new(
            IPAddress.Parse("10.215.0.100"), IPAddress.Parse("255.255.255.0"), IPAddress.Parse("10.215.0.1"),
            [.. Enumerable.Range(1, 60).Select(i => IPAddress.Parse($"10.0.0.{i}"))], new string('d', 200), "host", TimeSpan.FromHours(1));

        public ValueTask<LeaseResult> OfferAsync(LeaseRequest request, CancellationToken ct) => new(LeaseResult.Granted(Grant));

        public ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct) => new(LeaseResult.Granted(Grant));

        public void WithdrawOffer(LeaseRequest request)
        {
        }

        public ValueTask ReleaseAsync(LeaseRequest request, IPAddress address, CancellationToken ct) => default;

        public ValueTask DeclineAsync(LeaseRequest request, IPAddress address, CancellationToken ct) => default;

        public ValueTask<LeaseGrant?> InformAsync(LeaseRequest request, CancellationToken ct) => new(Grant);
    }

    [Fact]
    public async Task A_reply_too_big_for_the_client_drops_options_not_asked_for_first()
    {
        var h = new HandlerHarness(store: new BigGrantStore());

        // udhcpc announces 57 = 576 and asks for 1, 3, 6, 12, 15, 28, 42 (not for the boot options: it is not booting).
        var request = HandlerHarness.Golden("udhcpc-pxe-options-discover.bin");
        request.Options.ParameterRequestList = [DhcpOptionCode.SubnetMask, DhcpOptionCode.Router, DhcpOptionCode.DomainName, DhcpOptionCode.DomainNameServer];
        var reply = await h.SendAsync(request);

        var m = reply!.Message;
        Assert.True(m.GetEncodedLength() <= 576 - 28, $"{m.GetEncodedLength()} bytes");
        Assert.True(m.Options.Contains(DhcpOptionCode.BootFileName));
        Assert.True(m.Options.Contains(DhcpOptionCode.IPAddressLeaseTime));
        Assert.True(m.Options.Contains(DhcpOptionCode.SubnetMask));
        Assert.False(m.Options.Contains(DhcpOptionCode.HostName));
        Assert.True(m.Options.Contains(DhcpOptionCode.Router));
    }

    [Fact]
    public async Task A_client_announcing_a_large_maximum_gets_everything()
    {
        var h = new HandlerHarness(store: new BigGrantStore());
        var request = HandlerHarness.Golden("udhcpc-discover.bin");
        request.Options.MaxMessageSize = 1500;

        var reply = await h.SendAsync(request);

        Assert.Equal(60, reply!.Message.Options.DomainNameServers!.Count);
        Assert.Equal("host", reply.Message.Options.HostName);
        Assert.True(reply.Message.GetEncodedLength() <= 1500 - 28);
    }

    [Theory]
    [InlineData("http://{server}:8080", "10.1.2.3", "http://10.1.2.3:8080")]
    [InlineData("http://{server}:8080/", "10.1.2.3", "http://10.1.2.3:8080")]
    [InlineData("https://boot.example:8443", "10.1.2.3", "https://boot.example:8443")]
    public void Http_base_expansion(string template, string server, string expected) =>
        Assert.Equal(expected, DhcpHandler.ExpandHttpBase(template, Ip(server)));

    [Theory]
    [InlineData(600, 600u)]
    [InlineData(0.2, 1u)]
    [InlineData(-1, uint.MaxValue)]
    public void Lease_seconds(double seconds, uint expected) =>
        Assert.Equal(expected, DhcpHandler.LeaseSeconds(seconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds)));

    [Fact]
    public async Task Handler_logs_carry_mac_xid_and_interface()
    {
        var h = new HandlerHarness();

        await h.SendAsync(HandlerHarness.Golden("udhcpc-request-renewing.bin"));

        var nak = Assert.Single(h.Logs.Entries, e => e.Id.Id == 3142);
        Assert.Contains("0a:c6:92:5b:d1:c7", nak.Message, StringComparison.Ordinal);
        Assert.Contains("0xe8442f77", nak.Message, StringComparison.Ordinal);
        Assert.Contains("br0", nak.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Storeless_handler_reports_it()
    {
        var handler = new DhcpHandler(Microsoft.Extensions.Options.Options.Create(new DhcpServerOptions()), NullLogger<DhcpHandler>.Instance);

        Assert.False(handler.HasLeaseStore);
    }
}
