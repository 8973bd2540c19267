using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>Authoritative mode, fed the captured client packets (TestData/).</summary>
public class AuthoritativeHandlerTests
{
    private const string IpxeScriptUrl = "http://10.215.0.1:8080/boot/boot.ipxe";
    private const string HttpNbpUrl = "http://10.215.0.1:8080/boot/ipxe.efi";
    private static readonly IPAddress Server = HandlerHarness.Server;

    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    private static string? Text(DhcpMessage m, DhcpOptionCode code) =>
        m.Options.TryGet(code, out var v) ? System.Text.Encoding.Latin1.GetString(v.Span) : null;

    private static string Hex(DhcpMessage m, DhcpOptionCode code) =>
        m.Options.TryGet(code, out var v) ? Convert.ToHexString(v.Span) : "";

    public enum Boot
    {
        None,
        Tftp,
        Http,
        Ipxe,
    }

    public static TheoryData<string, Boot, DhcpDestinationKind, string?> Discovers() => new()
    {
        { "udhcpc-discover.bin", Boot.None, DhcpDestinationKind.ClientHardwareAddress, null },
        { "dhclient-discover.bin", Boot.None, DhcpDestinationKind.ClientHardwareAddress, null },
        { "udhcpc-pxe-options-discover.bin", Boot.Tftp, DhcpDestinationKind.ClientHardwareAddress, "undionly.kpxe" },
        { "ipxe-bios-discover.bin", Boot.Ipxe, DhcpDestinationKind.ClientHardwareAddress, IpxeScriptUrl },
        { "ipxe-efi-discover.bin", Boot.Ipxe, DhcpDestinationKind.ClientHardwareAddress, IpxeScriptUrl },
        { "ovmf-pxe-discover.bin", Boot.Tftp, DhcpDestinationKind.Broadcast, "ipxe.efi" },
        { "ovmf-http-discover.bin", Boot.Http, DhcpDestinationKind.Broadcast, HttpNbpUrl },
    };

    [Theory]
    [MemberData(nameof(Discovers))]
    public async Task Discover_gets_an_offer_with_lease_options_and_boot_information(string golden, Boot boot, DhcpDestinationKind destination, string? bootFile)
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden(golden);

        var reply = await h.SendAsync(request);

        Assert.NotNull(reply);
        var m = reply.Message;
        Assert.Equal(DhcpMessageType.Offer, reply.Type);
        Assert.Equal(Ip("10.215.0.100"), m.YourIPAddress);
        Assert.Equal(IPAddress.Any, m.ClientIPAddress);
        Assert.Equal(IPAddress.Any, m.RelayAgentIPAddress);
        Assert.Equal(Server, m.Options.ServerIdentifier);
        Assert.Equal(600u, m.Options.LeaseTimeSeconds);
        Assert.Equal(300u, m.Options.RenewalTimeSeconds);
        Assert.Equal(525u, m.Options.RebindingTimeSeconds);
        Assert.Equal(Ip("255.255.255.0"), m.Options.SubnetMask);
        Assert.Equal([Server], m.Options.Routers);
        Assert.Equal([Server, Ip("10.215.0.2")], m.Options.DomainNameServers);
        Assert.Equal("lab.example", m.Options.DomainName);
        Assert.Null(m.Options.HostName);
        Assert.Equal(request.Options.ClientIdentifier?.ToArray(), m.Options.ClientIdentifier?.ToArray());

        Assert.Equal(destination, reply.Destination.Kind);
        var expectedEndPoint = destination == DhcpDestinationKind.Broadcast ? new IPEndPoint(IPAddress.Broadcast, 68) : new IPEndPoint(Ip("10.215.0.100"), 68);
        Assert.Equal(expectedEndPoint, reply.Destination.EndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 68), reply.Destination.SendTo);

        switch (boot)
        {
            case Boot.None:
                Assert.Equal(IPAddress.Any, m.ServerIPAddress);
                Assert.Equal("", m.BootFileName);
                foreach (var code in new[] { DhcpOptionCode.TftpServerName, DhcpOptionCode.BootFileName, DhcpOptionCode.VendorClassIdentifier, DhcpOptionCode.VendorSpecificInformation, DhcpOptionCode.IpxeEncapsulated })
                {
                    Assert.False(m.Options.Contains(code), $"option {(byte)code}");
                }

                break;
            case Boot.Tftp:
                Assert.Equal(Server, m.ServerIPAddress);
                Assert.Equal(bootFile, m.BootFileName);
                Assert.Equal(bootFile, m.Options.BootFileName);
                Assert.Equal("10.215.0.1", m.Options.TftpServerName);
                Assert.Equal("PXEClient", m.Options.VendorClassIdentifier);
                Assert.Equal("060108FF", Hex(m, DhcpOptionCode.VendorSpecificInformation));
                Assert.Equal(Hex(request, DhcpOptionCode.ClientMachineIdentifier), Hex(m, DhcpOptionCode.ClientMachineIdentifier));
                Assert.False(m.Options.Contains(DhcpOptionCode.IpxeEncapsulated));
                break;
            case Boot.Http:
                Assert.Equal(Server, m.ServerIPAddress);
                Assert.Equal(bootFile, m.Options.BootFileName);
                Assert.Equal(bootFile, m.BootFileName);
                Assert.Equal("HTTPClient", m.Options.VendorClassIdentifier);
                Assert.False(m.Options.Contains(DhcpOptionCode.VendorSpecificInformation));
                Assert.False(m.Options.Contains(DhcpOptionCode.TftpServerName));
                break;
            case Boot.Ipxe:
                Assert.Equal(Server, m.ServerIPAddress);
                Assert.Equal(bootFile, m.Options.BootFileName);
                Assert.Equal(bootFile, m.BootFileName);
                Assert.Equal("AF03B00101", "AF03" + Hex(m, DhcpOptionCode.IpxeEncapsulated));

                // Authoritative replies to iPXE carry no PXEClient: iPXE would take them for proxy offers too.
                Assert.False(m.Options.Contains(DhcpOptionCode.VendorClassIdentifier));
                Assert.False(m.Options.Contains(DhcpOptionCode.VendorSpecificInformation));
                break;
        }
    }

    [Fact]
    public async Task Options_follow_the_clients_parameter_request_order_after_53_54_and_the_lease_times()
    {
        var h = new HandlerHarness();
        h.Store.SetHostName(PhysicalAddress.Parse("0A-C6-92-5B-D1-C7"), "node-7");

        // udhcpc asks for 1, 3, 6, 12, 15, 28, 42 (in that order).
        var reply = await h.SendAsync(HandlerHarness.Golden("udhcpc-discover.bin"));

        Assert.Equal(
            new byte[] { 53, 54, 51, 58, 59, 1, 3, 6, 12, 15, 61 },
            reply!.Message.Options.Select(o => (byte)o.Code).ToArray());
        Assert.Equal("node-7", reply.Message.Options.HostName);
    }

    [Fact]
    public async Task Boot_options_the_client_asked_for_come_in_its_order()
    {
        var h = new HandlerHarness();

        // OVMF asks ... 43, 66, 67, 97 ... 60 comes before 66 in its list.
        var reply = await h.SendAsync(HandlerHarness.Golden("ovmf-pxe-discover.bin"));

        var codes = reply!.Message.Options.Select(o => (byte)o.Code).ToList();
        Assert.Equal([53, 54, 51, 58, 59], codes.Take(5));
        Assert.True(codes.IndexOf(43) < codes.IndexOf(66) && codes.IndexOf(66) < codes.IndexOf(67) && codes.IndexOf(67) < codes.IndexOf(97));
    }

    public static TheoryData<string, string, DhcpDestinationKind> SelectingRequests() => new()
    {
        { "udhcpc-request-selecting.bin", "10.215.0.147", DhcpDestinationKind.ClientHardwareAddress },
        { "dhclient-request-selecting.bin", "10.215.0.147", DhcpDestinationKind.ClientHardwareAddress },
        { "ipxe-bios-request.bin", "10.215.0.148", DhcpDestinationKind.ClientHardwareAddress },
        { "ipxe-efi-request.bin", "10.215.0.149", DhcpDestinationKind.ClientHardwareAddress },
        { "ovmf-pxe-request.bin", "10.215.0.150", DhcpDestinationKind.Broadcast },
    };

    [Theory]
    [MemberData(nameof(SelectingRequests))]
    public async Task Selecting_request_for_our_offer_is_acked(string golden, string address, DhcpDestinationKind destination)
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden(golden);

        var reply = await h.SendAsync(request);

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.Equal(Ip(address), reply.Message.YourIPAddress);
        Assert.Equal(600u, reply.Message.Options.LeaseTimeSeconds);
        Assert.Equal(Server, reply.Message.Options.ServerIdentifier);
        Assert.Equal(destination, reply.Destination.Kind);
        var lease = Assert.Single(h.Store.Leases);
        Assert.Equal(InMemoryLeaseStore.LeaseState.Bound, lease.State);
        var booting = !golden.StartsWith("udhcpc", StringComparison.Ordinal) && !golden.StartsWith("dhclient", StringComparison.Ordinal);
        Assert.Equal(booting, h.Progress.Seen.Any(s => s.Stage == DhcpBootStages.DhcpAck)); // boot progress only for network-boot clients
    }

    [Fact]
    public async Task An_ordinary_dhcp_client_gets_its_lease_and_leaves_no_boot_progress()
    {
        var h = new HandlerHarness();

        var ack = await h.LeaseAsync(HandlerHarness.Golden("udhcpc-discover.bin"));

        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Empty(h.Progress.Seen);
    }

    [Fact]
    public async Task Ipxe_ack_carries_the_script_url_and_no_pxedhcp()
    {
        var h = new HandlerHarness();

        var reply = await h.SendAsync(HandlerHarness.Golden("ipxe-bios-request.bin"));

        Assert.Equal(IpxeScriptUrl, reply!.Message.Options.BootFileName);
        Assert.Equal("B00101", Hex(reply.Message, DhcpOptionCode.IpxeEncapsulated));
    }

    [Fact]
    public async Task Selecting_request_for_another_servers_offer_is_not_answered_and_withdraws_ours()
    {
        var h = new HandlerHarness();
        var offer = await h.SendAsync(HandlerHarness.Golden("udhcpc-discover.bin"));
        Assert.NotNull(offer);
        Assert.NotEmpty(h.Store.Leases);
        var request = HandlerHarness.Golden("udhcpc-request-selecting.bin");
        request.Options.ServerIdentifier = Ip("10.215.0.9");

        Assert.Null(await h.SendAsync(request));
        Assert.Equal(1, h.Store.WithdrawnOffers);
        Assert.Empty(h.Store.Leases); // our offer is free again at once, not after its hold
    }

    [Fact]
    public async Task Renewing_is_acked_unicast_to_ciaddr_with_ciaddr_copied()
    {
        var h = new HandlerHarness();
        await h.SendAsync(HandlerHarness.Golden("udhcpc-request-selecting.bin"));
        h.Time.Advance(TimeSpan.FromSeconds(300));

        var reply = await h.SendAsync(HandlerHarness.Golden("udhcpc-request-renewing.bin"));

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.Equal(Ip("10.215.0.147"), reply.Message.YourIPAddress);
        Assert.Equal(Ip("10.215.0.147"), reply.Message.ClientIPAddress);
        Assert.Equal(new DhcpDestination(DhcpDestinationKind.Unicast, new IPEndPoint(Ip("10.215.0.147"), 68)), reply.Destination);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(600), Assert.Single(h.Store.Leases).Expires);
    }

    [Fact]
    public async Task Renewing_an_unknown_lease_is_nakked_by_broadcast()
    {
        var h = new HandlerHarness();

        var reply = await h.SendAsync(HandlerHarness.Golden("udhcpc-request-renewing.bin"));

        AssertNak(reply, "no lease");
        Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 68), reply!.Destination.EndPoint);
        Assert.Equal(DhcpDestinationKind.Broadcast, reply.Destination.Kind);
    }

    [Fact]
    public async Task Renewing_after_the_lease_expired_and_the_address_went_to_another_client_is_nakked()
    {
        var h = new HandlerHarness(subnets: InMemorySubnet.Parse("10.215.0.0/24", "10.215.0.147", "10.215.0.147", "10.215.0.1"));
        await h.SendAsync(HandlerHarness.Golden("udhcpc-request-selecting.bin"));
        h.Time.Advance(TimeSpan.FromSeconds(601));
        var other = HandlerHarness.Golden("ipxe-bios-discover.bin");
        var otherAck = await h.LeaseAsync(other);

        var reply = await h.SendAsync(HandlerHarness.Golden("udhcpc-request-renewing.bin"));

        Assert.Equal(Ip("10.215.0.147"), otherAck.Message.YourIPAddress);
        AssertNak(reply, "another client");
    }

    [Fact]
    public async Task Init_reboot_with_a_known_lease_is_acked()
    {
        var h = new HandlerHarness();
        await h.SendAsync(HandlerHarness.Golden("dhclient-request-selecting.bin"));

        var reply = await h.SendAsync(HandlerHarness.Golden("dhclient-request-init-reboot.bin"));

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.Equal(Ip("10.215.0.147"), reply.Message.YourIPAddress);
    }

    [Fact]
    public async Task Init_reboot_for_an_unknown_lease_is_nakked()
    {
        var h = new HandlerHarness();

        AssertNak(await h.SendAsync(HandlerHarness.Golden("dhclient-request-init-reboot.bin")), "no lease");
    }

    [Fact]
    public async Task Init_reboot_on_the_wrong_network_is_nakked()
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("dhclient-request-init-reboot.bin");
        request.Options.RequestedIPAddress = Ip("192.168.1.23");

        AssertNak(await h.SendAsync(request), "not on this network");
    }

    [Fact]
    public async Task Init_reboot_for_an_address_another_client_holds_is_nakked()
    {
        var h = new HandlerHarness();

        // udhcpc (client id 01:0a:c6:…) holds .147; dhclient on the same MAC sends no client id: another client.
        await h.SendAsync(HandlerHarness.Golden("udhcpc-request-selecting.bin"));

        AssertNak(await h.SendAsync(HandlerHarness.Golden("dhclient-request-init-reboot.bin")), "another client");
    }

    [Fact]
    public async Task Relayed_nak_goes_to_the_relay_with_the_broadcast_bit()
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("dhclient-request-init-reboot.bin");
        request.RelayAgentIPAddress = HandlerHarness.Relay;
        request.Hops = 1;

        var reply = await h.SendAsync(request);

        AssertNak(reply, "not on this network");
        Assert.Equal(new IPEndPoint(HandlerHarness.Relay, 67), reply!.Destination.EndPoint);
        Assert.Equal(DhcpDestinationKind.RelayAgent, reply.Destination.Kind);
        Assert.True(reply.Message.IsBroadcast);
        Assert.Equal(HandlerHarness.Relay, reply.Message.RelayAgentIPAddress);
    }

    [Fact]
    public async Task Relayed_discover_and_request_get_an_address_of_the_relays_subnet_back_to_the_relay()
    {
        var h = new HandlerHarness();
        var discover = HandlerHarness.Golden("udhcpc-discover.bin");
        discover.RelayAgentIPAddress = HandlerHarness.Relay;
        discover.Hops = 1;
        discover.Options.Set(DhcpOptionCode.RelayAgentInformation, [1, 4, (byte)'p', (byte)'o', (byte)'r', (byte)'t']);

        var offer = await h.SendAsync(discover, local: Server);
        var ack = await h.LeaseAsync(discover);

        Assert.Equal(Ip("10.216.0.100"), offer!.Message.YourIPAddress);
        Assert.Equal([HandlerHarness.Relay], offer.Message.Options.Routers);
        Assert.Equal(HandlerHarness.Relay, offer.Message.RelayAgentIPAddress);
        Assert.Equal(new DhcpDestination(DhcpDestinationKind.RelayAgent, new IPEndPoint(HandlerHarness.Relay, 67)), offer.Destination);
        Assert.Equal(DhcpOptionCode.RelayAgentInformation, offer.Message.Options[^1].Code);
        Assert.Equal("0104706F7274", Hex(offer.Message, DhcpOptionCode.RelayAgentInformation));
        Assert.Equal(Ip("10.216.0.100"), ack.Message.YourIPAddress);
        Assert.Equal(DhcpDestinationKind.RelayAgent, ack.Destination.Kind);
    }

    [Fact]
    public async Task Relayed_requests_get_the_address_they_were_sent_to_as_server_identifier()
    {
        var h = new HandlerHarness();
        var discover = HandlerHarness.Golden("udhcpc-discover.bin");
        discover.RelayAgentIPAddress = HandlerHarness.Relay;

        var offer = await h.SendAsync(discover, local: Ip("10.215.0.5"));

        Assert.Equal(Ip("10.215.0.5"), offer!.Message.Options.ServerIdentifier);
    }

    [Fact]
    public async Task The_relay_port_is_configurable()
    {
        var h = new HandlerHarness(new DhcpServerOptions { RelayAgentPort = 1067 });
        var discover = HandlerHarness.Golden("udhcpc-discover.bin");
        discover.RelayAgentIPAddress = HandlerHarness.Relay;

        var offer = await h.SendAsync(discover);

        Assert.Equal(new IPEndPoint(HandlerHarness.Relay, 1067), offer!.Destination.EndPoint);
    }

    [Fact]
    public async Task A_relay_from_a_subnet_we_do_not_serve_gets_no_answer_and_a_warning()
    {
        var h = new HandlerHarness();
        var discover = HandlerHarness.Golden("udhcpc-discover.bin");
        discover.RelayAgentIPAddress = Ip("192.168.77.1");

        Assert.Null(await h.SendAsync(discover));
        Assert.Contains(h.Logs.Entries, e => e.Id.Id == 3143 && e.Message.Contains("no subnet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Decline_quarantines_the_address_and_the_next_offer_avoids_it()
    {
        var h = new HandlerHarness();
        var ack = await h.LeaseAsync(HandlerHarness.Golden("udhcpc-discover.bin"));
        var decline = HandlerHarness.Golden("udhcpc-request-selecting.bin");
        decline.Options.MessageType = DhcpMessageType.Decline;
        decline.Options.RequestedIPAddress = ack.Message.YourIPAddress;

        Assert.Null(await h.SendAsync(decline));
        var next = await h.SendAsync(HandlerHarness.Golden("udhcpc-discover.bin"));

        Assert.True(h.Store.IsQuarantined(ack.Message.YourIPAddress));
        Assert.NotEqual(ack.Message.YourIPAddress, next!.Message.YourIPAddress);
        Assert.Contains(h.Logs.Entries, e => e.Id.Id == 3144);
    }

    [Fact]
    public async Task Decline_for_another_server_is_ignored()
    {
        var h = new HandlerHarness();
        var decline = HandlerHarness.Golden("udhcpc-request-selecting.bin");
        decline.Options.MessageType = DhcpMessageType.Decline;
        decline.Options.ServerIdentifier = Ip("10.215.0.9");

        Assert.Null(await h.SendAsync(decline));
        Assert.False(h.Store.IsQuarantined(Ip("10.215.0.147")));
    }

    [Theory]
    [InlineData("udhcpc-request-selecting.bin", "udhcpc-release.bin")]
    [InlineData("dhclient-request-selecting.bin", "dhclient-release.bin")]
    public async Task Release_frees_the_lease(string request, string release)
    {
        var h = new HandlerHarness();
        await h.SendAsync(HandlerHarness.Golden(request));

        Assert.Null(await h.SendAsync(HandlerHarness.Golden(release)));

        var lease = Assert.Single(h.Store.Leases);
        Assert.Equal(InMemoryLeaseStore.LeaseState.Released, lease.State);
        Assert.False(lease.Active);
    }

    [Fact]
    public async Task Inform_gets_configuration_without_an_address_unicast_to_ciaddr()
    {
        var h = new HandlerHarness();
        var inform = HandlerHarness.Golden("udhcpc-request-renewing.bin");
        inform.Options.MessageType = DhcpMessageType.Inform;
        inform.ClientIPAddress = Ip("10.215.0.20");

        var reply = await h.SendAsync(inform);

        Assert.Equal(DhcpMessageType.Ack, reply!.Type);
        Assert.Equal(IPAddress.Any, reply.Message.YourIPAddress);
        Assert.Null(reply.Message.Options.LeaseTimeSeconds);
        Assert.Null(reply.Message.Options.RenewalTimeSeconds);
        Assert.Equal(Ip("255.255.255.0"), reply.Message.Options.SubnetMask);
        Assert.Equal(new IPEndPoint(Ip("10.215.0.20"), 68), reply.Destination.EndPoint);
        Assert.Empty(h.Store.Leases);
    }

    [Fact]
    public async Task Discover_with_an_empty_pool_is_not_answered_and_logged_as_a_warning()
    {
        var h = new HandlerHarness(subnets: InMemorySubnet.Parse("10.215.0.0/24", "10.215.0.100", "10.215.0.100", "10.215.0.1"));
        await h.SendAsync(HandlerHarness.Golden("ipxe-bios-discover.bin"));

        Assert.Null(await h.SendAsync(HandlerHarness.Golden("udhcpc-discover.bin")));
        Assert.Contains(h.Logs.Entries, e => e.Id.Id == 3143 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task Discover_is_reported_to_the_progress_sink_with_the_uuid()
    {
        var h = new HandlerHarness();

        await h.LeaseAsync(HandlerHarness.Golden("ipxe-efi-discover.bin"));

        Assert.Equal(
            [DhcpBootStages.DhcpDiscover, DhcpBootStages.DhcpAck],
            h.Progress.Seen.Select(s => s.Stage));
        Assert.All(h.Progress.Seen, s => Assert.Equal(Guid.Parse("4c4c4544-0042-3510-8051-b4c04f4e3232"), s.Uuid));
        Assert.All(h.Progress.Seen, s => Assert.Equal(PhysicalAddress.Parse("52-54-00-21-40-02"), s.Mac));
    }

    [Theory]
    [InlineData("udhcpd-offer.bin")]
    [InlineData("udhcpd-ack.bin")]
    public async Task Server_messages_are_ignored(string golden)
    {
        var h = new HandlerHarness();

        Assert.Null(await h.SendAsync(HandlerHarness.Golden(golden)));
    }

    [Fact]
    public async Task Plain_bootp_without_a_message_type_is_ignored()
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("udhcpc-discover.bin");
        request.Options.MessageType = null;

        Assert.Null(await h.SendAsync(request));
    }

    [Fact]
    public async Task Request_without_an_address_is_ignored()
    {
        var h = new HandlerHarness();
        var request = HandlerHarness.Golden("udhcpc-request-selecting.bin");
        request.Options.RequestedIPAddress = null;

        Assert.Null(await h.SendAsync(request));
    }

    [Fact]
    public async Task An_infinite_lease_has_no_renewal_times()
    {
        var h = new HandlerHarness(new DhcpServerOptions { LeaseTime = Timeout.InfiniteTimeSpan });

        var reply = await h.SendAsync(HandlerHarness.Golden("udhcpc-discover.bin"));

        Assert.Equal(uint.MaxValue, reply!.Message.Options.LeaseTimeSeconds);
        Assert.Null(reply.Message.Options.RenewalTimeSeconds);
        Assert.Null(reply.Message.Options.RebindingTimeSeconds);
    }

    [Fact]
    public async Task Authoritative_mode_without_a_lease_store_throws()
    {
        var handler = new DhcpHandler(Microsoft.Extensions.Options.Options.Create(new DhcpServerOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<DhcpHandler>.Instance);
        var context = new DhcpRequestContext(HandlerHarness.Golden("udhcpc-discover.bin"), HandlerHarness.Link(DhcpMode.Authoritative), DhcpListenerKind.Server, new IPEndPoint(IPAddress.Any, 68));

        Assert.False(handler.HasLeaseStore);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await handler.HandleAsync(context, default));
    }

    internal static void AssertNak(DhcpReply? reply, string reason)
    {
        Assert.NotNull(reply);
        var m = reply.Message;
        Assert.Equal(DhcpMessageType.Nak, reply.Type);
        Assert.Equal(IPAddress.Any, m.YourIPAddress);
        Assert.Equal(IPAddress.Any, m.ClientIPAddress);
        Assert.Equal(IPAddress.Any, m.ServerIPAddress);
        Assert.Equal(Server, m.Options.ServerIdentifier);
        Assert.Contains(reason, Text(m, DhcpOptionCode.Message), StringComparison.Ordinal);
        Assert.All(m.Options, o => Assert.Contains(o.Code, new[] { DhcpOptionCode.DhcpMessageType, DhcpOptionCode.ServerIdentifier, DhcpOptionCode.Message, DhcpOptionCode.ClientIdentifier, DhcpOptionCode.RelayAgentInformation }));
    }
}
