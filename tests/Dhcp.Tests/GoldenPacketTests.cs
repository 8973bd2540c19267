using System.Net;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>Kind 3: datagrams captured from real clients (see TestData/README.md).</summary>
public class GoldenPacketTests
{
    private static readonly Guid VmUuid = Guid.Parse("4c4c4544-0042-3510-8051-b4c04f4e3232");

    private static readonly byte[] IpxeParameterRequestList =
        [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203];

    private static readonly byte[] OvmfPxeParameterRequestList =
        [1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135];

    private static DhcpMessage Load(string name) => TestPackets.Parse(TestPackets.Golden(name));

    private static byte[] Prl(DhcpMessage m) => [.. m.Options.ParameterRequestList!.Select(c => (byte)c)];

    public static TheoryData<string> AllNames() => [.. TestPackets.GoldenNames];

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Reencodes_byte_identical(string name)
    {
        var original = TestPackets.Golden(name);

        var reencoded = TestPackets.Encode(TestPackets.Parse(original));

        // Every captured client writes its options once each, in order, ends them with 255 and
        // pads with zeros to at least 300 bytes: the same canonical form our encoder produces.
        Assert.Equal(Convert.ToHexString(original), Convert.ToHexString(reencoded));
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Peeked_message_type_is_the_decoded_one(string name)
    {
        var datagram = TestPackets.Golden(name);

        Assert.Equal(Load(name).Options.MessageType, DhcpMessage.PeekMessageType(datagram));
    }

    [Fact]
    public void Peek_gives_up_on_what_is_not_plainly_a_dhcp_message()
    {
        var discover = TestPackets.Golden(TestPackets.GoldenNames[0]);
        Assert.Null(DhcpMessage.PeekMessageType(discover.AsSpan(0, 239))); // cut inside the magic cookie
        var noCookie = (byte[])discover.Clone();
        noCookie[236] ^= 0xFF;
        Assert.Null(DhcpMessage.PeekMessageType(noCookie));
        Assert.Null(DhcpMessage.PeekMessageType([.. discover.AsSpan(0, 240), 53])); // option 53 without its length
        Assert.Null(DhcpMessage.PeekMessageType([.. discover.AsSpan(0, 240), 53, 2, 1, 1])); // wrong length
        Assert.Null(DhcpMessage.PeekMessageType([.. discover.AsSpan(0, 240), 12, 9, 1])); // an option running past the end
        Assert.Null(DhcpMessage.PeekMessageType([.. discover.AsSpan(0, 240), 255, 53, 1, 1])); // after the end option
        Assert.Equal(DhcpMessageType.Request, DhcpMessage.PeekMessageType([.. discover.AsSpan(0, 240), 0, 0, 12, 1, 65, 53, 1, 3, 255]));
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Decodes_with_default_limits_and_a_message_type(string name)
    {
        var message = Load(name);

        Assert.NotNull(message.Options.MessageType);
        Assert.Equal(1, message.HardwareType);
        Assert.Equal(6, message.HardwareAddressLength);
    }

    [Fact]
    public void Busybox_udhcpc_discover()
    {
        var m = Load("udhcpc-discover.bin");

        Assert.Equal(DhcpOpCode.BootRequest, m.Op);
        Assert.Equal(0xe8442f77u, m.TransactionId);
        Assert.Equal("0AC6925BD1C7", m.ClientMacAddress?.ToString());
        Assert.False(m.IsBroadcast);
        Assert.Equal(DhcpMessageType.Discover, m.Options.MessageType);
        Assert.Equal((ushort)576, m.Options.MaxMessageSize);
        Assert.Equal(new byte[] { 1, 3, 6, 12, 15, 28, 42 }, Prl(m));
        Assert.Equal("nekko-cap-host", m.Options.HostName);
        Assert.Equal("udhcp 1.35.0", m.Options.VendorClassIdentifier);
        Assert.Equal(TestPackets.Hex("01 0a c6 92 5b d1 c7"), m.Options.ClientIdentifier?.ToArray());
        Assert.Null(m.Options.ClientArchitectures);
        Assert.Null(m.Options.UserClasses);
    }

    [Fact]
    public void Busybox_udhcpc_request_selecting_renewing_release()
    {
        var selecting = Load("udhcpc-request-selecting.bin");
        Assert.Equal(DhcpMessageType.Request, selecting.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), selecting.Options.RequestedIPAddress);
        Assert.Equal(IPAddress.Parse("10.215.0.1"), selecting.Options.ServerIdentifier);
        Assert.Equal(IPAddress.Any, selecting.ClientIPAddress);
        Assert.Equal(2, selecting.Seconds);

        var renewing = Load("udhcpc-request-renewing.bin");
        Assert.Equal(DhcpMessageType.Request, renewing.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), renewing.ClientIPAddress);
        Assert.Null(renewing.Options.RequestedIPAddress);
        Assert.Null(renewing.Options.ServerIdentifier);

        var release = Load("udhcpc-release.bin");
        Assert.Equal(DhcpMessageType.Release, release.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), release.ClientIPAddress);
        Assert.Equal(IPAddress.Parse("10.215.0.1"), release.Options.ServerIdentifier);
    }

    [Fact]
    public void Busybox_udhcpd_offer_and_ack()
    {
        var offer = Load("udhcpd-offer.bin");
        Assert.Equal(DhcpOpCode.BootReply, offer.Op);
        Assert.Equal(0xe8442f77u, offer.TransactionId);
        Assert.Equal(DhcpMessageType.Offer, offer.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), offer.YourIPAddress);
        Assert.Equal(IPAddress.Parse("10.215.0.1"), offer.ServerIPAddress);
        Assert.Equal("nekko-none.efi", offer.BootFileName);
        Assert.Equal("", offer.ServerName);
        Assert.Equal(IPAddress.Parse("10.215.0.1"), offer.Options.ServerIdentifier);
        Assert.Equal(600u, offer.Options.LeaseTimeSeconds);
        Assert.Equal(IPAddress.Parse("255.255.255.0"), offer.Options.SubnetMask);
        Assert.Equal([IPAddress.Parse("10.215.0.1")], offer.Options.Routers);

        Assert.Equal(DhcpMessageType.Ack, Load("udhcpd-ack.bin").Options.MessageType);
    }

    [Fact]
    public void Busybox_udhcpc_with_pxe_options_from_its_command_line()
    {
        var m = Load("udhcpc-pxe-options-discover.bin");

        Assert.Equal("PXEClient:Arch:00000:UNDI:002001", m.Options.VendorClassIdentifier);
        Assert.Equal([ClientArchitecture.X86Bios], m.Options.ClientArchitectures);
        Assert.Equal(new ClientNetworkInterfaceIdentifier(1, 2, 1), m.Options.ClientNetworkInterfaceId);
        Assert.Equal(VmUuid, m.Options.ClientMachineId);
        Assert.Equal(new byte[] { 1, 3, 6, 12, 15, 28, 42, 43, 66, 67 }, Prl(m));
    }

    [Fact]
    public void Isc_dhclient_discover_request_release_init_reboot()
    {
        var discover = Load("dhclient-discover.bin");
        Assert.Equal(0xd597471au, discover.TransactionId);
        Assert.Equal("0AC6925BD1C7", discover.ClientMacAddress?.ToString());
        Assert.Equal(DhcpMessageType.Discover, discover.Options.MessageType);
        Assert.Equal("vm", discover.Options.HostName);
        Assert.Equal(new byte[] { 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42 }, Prl(discover));
        Assert.Null(discover.Options.ClientIdentifier);

        var request = Load("dhclient-request-selecting.bin");
        Assert.Equal(
            new[] { DhcpOptionCode.DhcpMessageType, DhcpOptionCode.ServerIdentifier, DhcpOptionCode.RequestedIPAddress, DhcpOptionCode.HostName, DhcpOptionCode.ParameterRequestList },
            request.Options.Select(o => o.Code));

        var release = Load("dhclient-release.bin");
        Assert.Equal(DhcpMessageType.Release, release.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), release.ClientIPAddress);

        var initReboot = Load("dhclient-request-init-reboot.bin");
        Assert.Equal(DhcpMessageType.Request, initReboot.Options.MessageType);
        Assert.Equal(IPAddress.Parse("10.215.0.147"), initReboot.Options.RequestedIPAddress);
        Assert.Null(initReboot.Options.ServerIdentifier); // INIT-REBOOT: no server id (RFC 2131 §4.3.2)
        Assert.Equal(IPAddress.Any, initReboot.ClientIPAddress);
    }

    [Fact]
    public void Ipxe_bios_nic_rom_discover()
    {
        var m = Load("ipxe-bios-discover.bin");

        Assert.Equal(0xdece1112u, m.TransactionId);
        Assert.Equal("525400214001", m.ClientMacAddress?.ToString());
        Assert.Equal(4, m.Seconds);
        Assert.Equal(DhcpMessageType.Discover, m.Options.MessageType);
        Assert.Equal((ushort)1472, m.Options.MaxMessageSize);
        Assert.Equal([ClientArchitecture.X86Bios], m.Options.ClientArchitectures);
        Assert.Equal(new ClientNetworkInterfaceIdentifier(1, 2, 1), m.Options.ClientNetworkInterfaceId);
        Assert.Equal("PXEClient:Arch:00000:UNDI:002001", m.Options.VendorClassIdentifier);
        Assert.Equal(["iPXE"], m.Options.UserClasses);
        Assert.True(m.Options.HasUserClass("iPXE"));
        Assert.Equal(TestPackets.Hex("69 50 58 45"), m.Options.GetSpan(DhcpOptionCode.UserClass).ToArray()); // plain, not RFC 3004
        Assert.Equal(IpxeParameterRequestList, Prl(m));
        Assert.Equal(TestPackets.Hex("01 52 54 00 21 40 01"), m.Options.ClientIdentifier?.ToArray());
        Assert.Equal(VmUuid, m.Options.ClientMachineId);

        var ipxe = m.Options.IpxeEncapsulated;
        Assert.NotNull(ipxe);
        Assert.True(ipxe.TryGet((byte)IpxeOptionCode.Version, out var version));
        Assert.Equal(TestPackets.Hex("01 00 00"), version.ToArray());
        Assert.True(ipxe.TryGet((byte)IpxeOptionCode.HttpFeature, out var http));
        Assert.Equal(new byte[] { 1 }, http.ToArray());
        Assert.True(ipxe.Contains((byte)IpxeOptionCode.BusId));
        Assert.Equal(14, ipxe.Count);
    }

    [Fact]
    public void Ipxe_bios_request_adds_server_id_and_requested_address_last()
    {
        var m = Load("ipxe-bios-request.bin");

        Assert.Equal(DhcpMessageType.Request, m.Options.MessageType);
        Assert.Equal(DhcpOptionCode.ServerIdentifier, m.Options[^2].Code);
        Assert.Equal(DhcpOptionCode.RequestedIPAddress, m.Options[^1].Code);
        Assert.Equal(IPAddress.Parse("10.215.0.148"), m.Options.RequestedIPAddress);
    }

    [Fact]
    public void Ipxe_efi_under_ovmf_discover_and_request()
    {
        var m = Load("ipxe-efi-discover.bin");

        Assert.Equal("525400214002", m.ClientMacAddress?.ToString());
        Assert.Equal([ClientArchitecture.EfiX64], m.Options.ClientArchitectures);
        Assert.Equal(new ClientNetworkInterfaceIdentifier(1, 3, 10), m.Options.ClientNetworkInterfaceId);
        Assert.Equal("PXEClient:Arch:00007:UNDI:003010", m.Options.VendorClassIdentifier);
        Assert.Equal(["iPXE"], m.Options.UserClasses);
        Assert.Equal(IpxeParameterRequestList, Prl(m));
        Assert.Equal(VmUuid, m.Options.ClientMachineId);
        Assert.True(m.Options.IpxeEncapsulated!.Contains((byte)IpxeOptionCode.EfiFeature));

        Assert.Equal(IPAddress.Parse("10.215.0.149"), Load("ipxe-efi-request.bin").Options.RequestedIPAddress);
    }

    [Fact]
    public void Ovmf_native_pxe_discover_and_request()
    {
        var m = Load("ovmf-pxe-discover.bin");

        Assert.Equal("525400214003", m.ClientMacAddress?.ToString());
        Assert.True(m.IsBroadcast);
        Assert.Equal((ushort)1472, m.Options.MaxMessageSize);
        Assert.Equal([ClientArchitecture.EfiX64], m.Options.ClientArchitectures);
        Assert.Equal(new ClientNetworkInterfaceIdentifier(1, 3, 0), m.Options.ClientNetworkInterfaceId);
        Assert.Equal("PXEClient:Arch:00007:UNDI:003000", m.Options.VendorClassIdentifier);
        Assert.Null(m.Options.UserClasses);
        Assert.False(m.Options.Contains(DhcpOptionCode.IpxeEncapsulated));
        Assert.Null(m.Options.ClientIdentifier);
        Assert.Equal(VmUuid, m.Options.ClientMachineId);
        Assert.Equal(OvmfPxeParameterRequestList, Prl(m));

        var request = Load("ovmf-pxe-request.bin");
        Assert.Equal(DhcpMessageType.Request, request.Options.MessageType);
        Assert.Equal((ushort)65280, request.Options.MaxMessageSize); // OVMF really asks for 0xff00 here
        Assert.Equal(IPAddress.Parse("10.215.0.150"), request.Options.RequestedIPAddress);
    }

    [Fact]
    public void Ovmf_http_boot_discover()
    {
        var m = Load("ovmf-http-discover.bin");

        Assert.Equal("525400214004", m.ClientMacAddress?.ToString());
        Assert.True(m.IsBroadcast);
        Assert.Equal([ClientArchitecture.EfiX64Http], m.Options.ClientArchitectures);
        Assert.Equal("HTTPClient:Arch:00016:UNDI:003000", m.Options.VendorClassIdentifier);
        Assert.Equal(VmUuid, m.Options.ClientMachineId);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 241, 67, 97 }, Prl(m));
    }
}
