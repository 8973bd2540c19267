using System.Net;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>Kind 2: build, encode into buffers pre-filled with 0xFF, decode, compare field by field.</summary>
public class DhcpMessageRoundTripTests
{
    private static DhcpMessage FullMessage()
    {
        var message = new DhcpMessage
        {
            Op = DhcpOpCode.BootReply,
            HardwareType = 1,
            Hops = 2,
            TransactionId = 0xDEADBEEF,
            Seconds = 17,
            IsBroadcast = true,
            ClientIPAddress = IPAddress.Parse("10.0.0.5"),
            YourIPAddress = IPAddress.Parse("10.0.0.6"),
            ServerIPAddress = IPAddress.Parse("10.0.0.1"),
            RelayAgentIPAddress = IPAddress.Parse("10.9.0.1"),
            ServerName = "boot1",
            BootFileName = "undionly.kpxe",
        };
        message.SetClientHardwareAddress([0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]);
        var o = message.Options;
        o.MessageType = DhcpMessageType.Offer;
        o.ServerIdentifier = IPAddress.Parse("10.0.0.1");
        o.Set((DhcpOptionCode)224, [0xCA, 0xFE]); // unknown, site-specific
        o.LeaseTimeSeconds = 3600;
        o.RenewalTimeSeconds = 1800;
        o.RebindingTimeSeconds = 3150;
        o.SubnetMask = IPAddress.Parse("255.255.255.0");
        o.Routers = [IPAddress.Parse("10.0.0.254")];
        o.DomainNameServers = [IPAddress.Parse("10.0.0.53"), IPAddress.Parse("10.0.1.53")];
        o.HostName = "node-01";
        o.DomainName = "lab.example";
        o.DomainSearch = ["lab.example", "example"];
        o.VendorClassIdentifier = "HTTPClient";
        o.TftpServerName = "10.0.0.1";
        o.BootFileName = "http://10.0.0.1/boot/ipxe.efi";
        o.SetSubOptions(DhcpOptionCode.IpxeEncapsulated, new DhcpSubOptions().Add((byte)IpxeOptionCode.NoPxeDhcp, [1]));
        o.Set((DhcpOptionCode)250, new byte[700]); // long unknown option: split on encode
        o.Set(DhcpOptionCode.RelayAgentInformation, TestPackets.Hex("01 04 00 01 00 02 02 06 00 11 22 33 44 55"));
        return message;
    }

    [Fact]
    public void Full_message_round_trips()
    {
        var message = FullMessage();

        var decoded = TestPackets.Parse(TestPackets.Encode(message));

        MessageAssert.Equal(message, decoded);
        Assert.Equal("boot1", decoded.ServerName);
        Assert.Equal("undionly.kpxe", decoded.BootFileName);
        Assert.True(decoded.IsBroadcast);
        Assert.Equal("525400ABCDEF", decoded.ClientMacAddress?.ToString());
        Assert.Equal(DhcpMessageType.Offer, decoded.Options.MessageType);
        Assert.Equal(3600u, decoded.Options.LeaseTimeSeconds);
        Assert.Equal(1800u, decoded.Options.RenewalTimeSeconds);
        Assert.Equal(3150u, decoded.Options.RebindingTimeSeconds);
        Assert.Equal(IPAddress.Parse("255.255.255.0"), decoded.Options.SubnetMask);
        Assert.Equal([IPAddress.Parse("10.0.0.254")], decoded.Options.Routers);
        Assert.Equal(2, decoded.Options.DomainNameServers?.Count);
        Assert.Equal("node-01", decoded.Options.HostName);
        Assert.Equal("lab.example", decoded.Options.DomainName);
        Assert.Equal(["lab.example", "example"], decoded.Options.DomainSearch);
        Assert.Equal("HTTPClient", decoded.Options.VendorClassIdentifier);
        Assert.Equal("10.0.0.1", decoded.Options.TftpServerName);
        Assert.Equal("http://10.0.0.1/boot/ipxe.efi", decoded.Options.BootFileName);
        Assert.Equal(700, decoded.Options.GetSpan((DhcpOptionCode)250).Length);
        Assert.Equal([1, 2], decoded.Options.RelayAgentInformation!.Select(s => (int)s.Code));
    }

    [Fact]
    public void Option_order_and_unknown_options_are_preserved()
    {
        var datagram = TestPackets.Request("e0 02 01 02 35 01 01 fe 00 03 04 0a 00 00 01 81 01 ff ff");

        var message = TestPackets.Parse(datagram);
        var reencoded = TestPackets.Encode(message);

        Assert.Equal(new byte[] { 224, 53, 254, 3, 129 }, message.Options.Select(o => (byte)o.Code));
        Assert.Equal(datagram, reencoded[..datagram.Length]);
        Assert.All(reencoded[datagram.Length..], b => Assert.Equal(0, b)); // padded to 300
        Assert.Equal(300, reencoded.Length);
    }

    [Fact]
    public void Encoding_pads_to_300_bytes_with_zeros()
    {
        var message = new DhcpMessage();
        message.Options.MessageType = DhcpMessageType.Discover;

        var bytes = TestPackets.Encode(message);

        Assert.Equal(DhcpMessage.MinimumEncodedLength, bytes.Length);
        Assert.Equal(TestPackets.Hex("63 82 53 63 35 01 01 ff"), bytes[236..244]);
        Assert.All(bytes[244..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void TryWrite_refuses_a_short_destination_and_writes_nothing()
    {
        var message = FullMessage();
        var buffer = new byte[message.GetEncodedLength() - 1];
        buffer.AsSpan().Fill(0xFF);

        Assert.False(message.TryWrite(buffer, out var written));
        Assert.Equal(0, written);
        Assert.All(buffer, b => Assert.Equal(0xFF, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(510)]
    [InlineData(511)]
    [InlineData(1000)]
    public void Long_options_are_split_into_255_byte_pieces_and_concatenated_back(int length)
    {
        var value = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var message = new DhcpMessage();
        message.Options.Set(DhcpOptionCode.VendorSpecificInformation, value);
        message.Options.MessageType = DhcpMessageType.Ack;

        var bytes = TestPackets.Encode(message);
        var decoded = TestPackets.Parse(bytes);

        Assert.Equal(value, decoded.Options.GetSpan(DhcpOptionCode.VendorSpecificInformation).ToArray());
        Assert.Equal(new[] { DhcpOptionCode.VendorSpecificInformation, DhcpOptionCode.DhcpMessageType }, decoded.Options.Select(o => o.Code));
        var pieces = Math.Max(1, (length + 254) / 255);
        Assert.Equal(Math.Max(300, DhcpMessage.OptionsOffset + length + (2 * pieces) + 3 + 1), bytes.Length);
        Assert.Equal(43, bytes[DhcpMessage.OptionsOffset]);
        Assert.Equal(Math.Min(length, 255), bytes[DhcpMessage.OptionsOffset + 1]);
    }

    [Fact]
    public void Repeated_option_is_concatenated_at_its_first_position()
    {
        var message = TestPackets.Parse(TestPackets.Request("0c 02 61 62 35 01 01 0c 01 63 ff"));

        Assert.Equal(new[] { DhcpOptionCode.HostName, DhcpOptionCode.DhcpMessageType }, message.Options.Select(o => o.Code));
        Assert.Equal("abc", message.Options.HostName);
    }

    [Fact]
    public void CreateReply_copies_identity_fields_and_echoes_option_82_last()
    {
        var request = TestPackets.Parse(TestPackets.Request("35 01 01 37 02 01 03 52 06 01 04 00 00 00 07 ff"));
        request.IsBroadcast = true;
        request.RelayAgentIPAddress = IPAddress.Parse("192.0.2.1");
        request.Hops = 1;
        request.Seconds = 9;

        var reply = DhcpMessage.CreateReply(request);
        reply.Options.MessageType = DhcpMessageType.Offer;
        reply.Options.ServerIdentifier = IPAddress.Parse("192.0.2.10");
        var decoded = TestPackets.Parse(TestPackets.Encode(reply));

        Assert.Equal(DhcpOpCode.BootReply, decoded.Op);
        Assert.Equal(0x01020304u, decoded.TransactionId);
        Assert.True(decoded.IsBroadcast);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), decoded.RelayAgentIPAddress);
        Assert.Equal(request.ClientHardwareAddressField.ToArray(), decoded.ClientHardwareAddressField.ToArray());
        Assert.Equal(0, decoded.Hops);
        Assert.Equal(0, decoded.Seconds);
        Assert.Equal(DhcpOptionCode.RelayAgentInformation, decoded.Options[^1].Code);
        Assert.Equal(TestPackets.Hex("01 04 00 00 00 07"), decoded.Options.GetSpan(DhcpOptionCode.RelayAgentInformation).ToArray());
        Assert.False(decoded.Options.Contains(DhcpOptionCode.ParameterRequestList));
    }

    [Fact]
    public void CreateReply_without_option_82_adds_none()
    {
        var reply = DhcpMessage.CreateReply(TestPackets.Parse(TestPackets.Request("35 01 01 ff")));

        Assert.Empty(reply.Options);
    }

    [Fact]
    public void Setters_reject_values_that_would_not_encode()
    {
        var message = new DhcpMessage();

        Assert.Throws<ArgumentOutOfRangeException>(() => message.HardwareAddressLength = 17);
        Assert.Throws<ArgumentOutOfRangeException>(() => message.Op = (DhcpOpCode)3);
        Assert.Throws<ArgumentException>(() => message.ClientIPAddress = IPAddress.IPv6Loopback);
        Assert.Throws<ArgumentException>(() => message.ServerName = new string('a', 64));
        Assert.Throws<ArgumentException>(() => message.BootFileName = new string('a', 128));
        Assert.Throws<ArgumentException>(() => message.SetClientHardwareAddress(new byte[17]));
        Assert.Throws<ArgumentOutOfRangeException>(() => message.Options.Set(DhcpOptionCode.End, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => message.Options.Set(DhcpOptionCode.OptionOverload, [1]));
        message.BootFileName = new string('a', 127);
        Assert.Equal(127, message.BootFileName.Length);
    }
}
