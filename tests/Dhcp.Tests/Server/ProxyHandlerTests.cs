using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>proxyDHCP: boot information only, only to network-boot clients, no address, no lease store needed.</summary>
public class ProxyHandlerTests
{
    private static readonly IPAddress Server = HandlerHarness.Server;

    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    private static string Hex(DhcpMessage m, DhcpOptionCode code) =>
        m.Options.TryGet(code, out var v) ? Convert.ToHexString(v.Span) : "";

    /// <summary>A handler with no lease store at all: proxy mode must not need one.</summary>
    private static DhcpHandler StorelessHandler(DhcpServerOptions? options = null) =>
        new(Microsoft.Extensions.Options.Options.Create(options ?? new DhcpServerOptions()), NullLogger<DhcpHandler>.Instance);

    private static async Task<DhcpReply?> SendAsync(DhcpMessage request, DhcpListenerKind on = DhcpListenerKind.Server, IPEndPoint? source = null, DhcpHandler? handler = null)
    {
        var context = new DhcpRequestContext(request, HandlerHarness.Link(DhcpMode.Proxy), on, source ?? new IPEndPoint(IPAddress.Any, 68), IPAddress.Broadcast);
        var reply = await (handler ?? StorelessHandler()).HandleAsync(context, default);
        if (reply is not null)
        {
            MessageAssert.Equal(reply.Message, TestPackets.Parse(TestPackets.Encode(reply.Message)));
        }

        return reply;
    }

    [Theory]
    [InlineData("udhcpc-discover.bin")]
    [InlineData("dhclient-discover.bin")]
    [InlineData("udhcpc-request-selecting.bin")]
    [InlineData("dhclient-request-init-reboot.bin")]
    [InlineData("udhcpc-release.bin")]
    public async Task Clients_that_are_not_network_booting_get_no_answer_on_either_port(string golden)
    {
        Assert.Null(await SendAsync(HandlerHarness.Golden(golden)));
        Assert.Null(await SendAsync(HandlerHarness.Golden(golden), DhcpListenerKind.Proxy, new IPEndPoint(Ip("10.215.0.147"), 68)));
    }

    public static TheoryData<string, string, string, string?> BootDiscovers() => new()
    {
        // golden, option 60, option 67, file field
        { "ipxe-bios-discover.bin", "PXEClient", "http://10.215.0.1:8080/boot/boot.ipxe", "http://10.215.0.1:8080/boot/boot.ipxe" },
        { "ipxe-efi-discover.bin", "PXEClient", "http://10.215.0.1:8080/boot/boot.ipxe", "http://10.215.0.1:8080/boot/boot.ipxe" },
        { "ovmf-pxe-discover.bin", "PXEClient", "ipxe.efi", "ipxe.efi" },
        { "ovmf-http-discover.bin", "HTTPClient", "http://10.215.0.1:8080/boot/ipxe.efi", "http://10.215.0.1:8080/boot/ipxe.efi" },
        { "udhcpc-pxe-options-discover.bin", "PXEClient", "undionly.kpxe", "undionly.kpxe" },
    };

    [Theory]
    [MemberData(nameof(BootDiscovers))]
    public async Task Boot_clients_get_a_proxy_offer_without_an_address(string golden, string vendorClass, string bootFile, string? fileField)
    {
        var request = HandlerHarness.Golden(golden);

        var reply = await SendAsync(request);

        Assert.NotNull(reply);
        var m = reply.Message;
        Assert.Equal(DhcpMessageType.Offer, reply.Type);
        Assert.Equal(IPAddress.Any, m.YourIPAddress);
        Assert.Equal(IPAddress.Any, m.ClientIPAddress);
        Assert.Equal(Server, m.ServerIPAddress);
        Assert.Equal(Server, m.Options.ServerIdentifier);
        Assert.Equal(vendorClass, m.Options.VendorClassIdentifier);
        Assert.Equal(bootFile, m.Options.BootFileName);
        Assert.Equal(fileField, m.BootFileName);
        Assert.True(m.IsBroadcast);
        Assert.Equal(new DhcpDestination(DhcpDestinationKind.Broadcast, new IPEndPoint(IPAddress.Broadcast, 68)), reply.Destination);

        // No lease: no 51, 58, 59, 1, 3, 6, 15.
        foreach (var code in new[] { DhcpOptionCode.IPAddressLeaseTime, DhcpOptionCode.RenewalTimeValue, DhcpOptionCode.RebindingTimeValue, DhcpOptionCode.SubnetMask, DhcpOptionCode.Router, DhcpOptionCode.DomainNameServer, DhcpOptionCode.DomainName })
        {
            Assert.False(m.Options.Contains(code), $"option {(byte)code}");
        }

        if (vendorClass == "PXEClient")
        {
            // PXE 2.1: the client's UUID is echoed.
            Assert.Equal(Hex(request, DhcpOptionCode.ClientMachineIdentifier), Hex(m, DhcpOptionCode.ClientMachineIdentifier));
        }
    }

    [Fact]
    public async Task Pxe_firmware_gets_discovery_control_8_so_it_takes_the_boot_file_from_the_offer()
    {
        var reply = await SendAsync(HandlerHarness.Golden("ovmf-pxe-discover.bin"));

        // 43 = { 6 (PXE_DISCOVERY_CONTROL), 1, 8 } end; 66 = our address for the TFTP server.
        Assert.Equal("060108FF", Hex(reply!.Message, DhcpOptionCode.VendorSpecificInformation));
        Assert.Equal("10.215.0.1", reply.Message.Options.TftpServerName);
    }

    [Fact]
    public async Task Ipxe_gets_no_pxedhcp_in_proxy_replies_too()
    {
        var reply = await SendAsync(HandlerHarness.Golden("ipxe-bios-discover.bin"));

        Assert.Equal("B00101", Hex(reply!.Message, DhcpOptionCode.IpxeEncapsulated));
    }

    [Theory]
    [InlineData("ipxe-bios-request.bin")]
    [InlineData("ovmf-pxe-request.bin")]
    public async Task Requests_on_the_server_port_belong_to_the_real_dhcp_server(string golden)
    {
        Assert.Null(await SendAsync(HandlerHarness.Golden(golden)));
    }

    [Fact]
    public async Task Request_on_the_pxe_port_gets_an_ack_back_to_its_source()
    {
        var request = HandlerHarness.Golden("ovmf-pxe-request.bin");
        request.ClientIPAddress = Ip("192.168.1.50");
        request.Options.ServerIdentifier = Server;
        request.Options.RequestedIPAddress = null;
        var sink = new RecordingProgressSink();
        var handler = new DhcpHandler(Microsoft.Extensions.Options.Options.Create(new DhcpServerOptions()), NullLogger<DhcpHandler>.Instance, progress: sink);

        var reply = await SendAsync(request, DhcpListenerKind.Proxy, new IPEndPoint(Ip("192.168.1.50"), 68), handler);

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.Equal(IPAddress.Any, reply.Message.YourIPAddress);
        Assert.Equal(Ip("192.168.1.50"), reply.Message.ClientIPAddress);
        Assert.Equal("ipxe.efi", reply.Message.BootFileName);
        Assert.Equal("060108FF", Hex(reply.Message, DhcpOptionCode.VendorSpecificInformation));
        Assert.Equal(new DhcpDestination(DhcpDestinationKind.Unicast, new IPEndPoint(Ip("192.168.1.50"), 68)), reply.Destination);
        Assert.Equal(DhcpBootStages.DhcpAck, Assert.Single(sink.Seen).Stage);
    }

    [Fact]
    public async Task Pxe_port_reply_goes_to_the_source_port_and_echoes_the_boot_item()
    {
        var request = HandlerHarness.Golden("ovmf-pxe-request.bin");
        request.ClientIPAddress = Ip("192.168.1.50");
        request.Options.VendorSpecificInformation = new byte[] { 71, 4, 0x80, 0x00, 0x00, 0x00, 255 };

        var reply = await SendAsync(request, DhcpListenerKind.Proxy, new IPEndPoint(Ip("192.168.1.50"), 4011));

        Assert.Equal(new IPEndPoint(Ip("192.168.1.50"), 4011), reply!.Destination.EndPoint);
        Assert.Equal("0601084704" + "80000000" + "FF", Hex(reply.Message, DhcpOptionCode.VendorSpecificInformation));
    }

    [Fact]
    public async Task Pxe_port_request_from_a_client_without_an_address_is_answered_by_broadcast()
    {
        var request = HandlerHarness.Golden("ipxe-bios-request.bin");

        var reply = await SendAsync(request, DhcpListenerKind.Proxy, new IPEndPoint(IPAddress.Any, 68));

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.True(reply.Message.IsBroadcast);
        Assert.Equal(new DhcpDestination(DhcpDestinationKind.Broadcast, new IPEndPoint(IPAddress.Broadcast, 68)), reply.Destination);
    }

    [Fact]
    public async Task Relayed_proxy_discover_goes_back_to_the_relay()
    {
        var request = HandlerHarness.Golden("ovmf-pxe-discover.bin");
        request.RelayAgentIPAddress = HandlerHarness.Relay;

        var reply = await SendAsync(request);

        Assert.Equal(new DhcpDestination(DhcpDestinationKind.RelayAgent, new IPEndPoint(HandlerHarness.Relay, 67)), reply!.Destination);
        Assert.Equal(HandlerHarness.Relay, reply.Message.RelayAgentIPAddress);
    }

    [Fact]
    public async Task Pxe_port_requests_are_answered_as_proxy_even_on_an_authoritative_link()
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("ovmf-pxe-request.bin");
        request.ClientIPAddress = Ip("10.215.0.150");

        var reply = await h.SendAsync(request, DhcpMode.Authoritative, DhcpListenerKind.Proxy, new IPEndPoint(Ip("10.215.0.150"), 68));

        Assert.Equal(IPAddress.Any, reply!.Message.YourIPAddress);
        Assert.Empty(h.Store.Leases);
    }

    [Fact]
    public async Task Http_base_template_and_file_names_come_from_options()
    {
        var handler = StorelessHandler(new DhcpServerOptions
        {
            HttpBase = "https://{server}:8443/nekko/",
            Boot = new Boot.BootDecisionOptions { IpxeScriptFile = "chain.ipxe", UefiX64TftpFile = "snponly.efi" },
        });

        var ipxe = await SendAsync(HandlerHarness.Golden("ipxe-efi-discover.bin"), handler: handler);
        var pxe = await SendAsync(HandlerHarness.Golden("ovmf-pxe-discover.bin"), handler: handler);

        Assert.Equal("https://10.215.0.1:8443/nekko/boot/chain.ipxe", ipxe!.Message.Options.BootFileName);
        Assert.Equal("snponly.efi", pxe!.Message.BootFileName);
    }

    [Fact]
    public async Task A_url_too_long_for_the_file_field_travels_in_option_67_only()
    {
        var handler = StorelessHandler(new DhcpServerOptions { HttpBase = "http://{server}/" + new string('a', 120) });

        var reply = await SendAsync(HandlerHarness.Golden("ovmf-http-discover.bin"), handler: handler);

        Assert.Equal("", reply!.Message.BootFileName);
        Assert.EndsWith("/boot/ipxe.efi", reply.Message.Options.BootFileName, StringComparison.Ordinal);
    }
}
