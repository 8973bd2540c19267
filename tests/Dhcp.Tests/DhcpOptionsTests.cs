using System.Net;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

public class DhcpOptionsTests
{
    private static byte[] OptionsRegion(DhcpMessage message)
    {
        var bytes = TestPackets.Encode(message);
        var end = DhcpMessage.OptionsOffset + message.Options.Sum(o => 2 + o.Value.Length);
        return bytes[DhcpMessage.OptionsOffset..end];
    }

    [Fact]
    public void Ipxe_no_pxedhcp_encodes_as_af_03_b0_01_01()
    {
        var message = new DhcpMessage();
        message.Options.SetSubOptions(DhcpOptionCode.IpxeEncapsulated, new DhcpSubOptions().Add((byte)IpxeOptionCode.NoPxeDhcp, [1]));

        Assert.Equal(TestPackets.Hex("af 03 b0 01 01"), OptionsRegion(message));
    }

    [Theory]
    [InlineData("69 50 58 45", new[] { "iPXE" })] // iPXE: plain string
    [InlineData("04 69 50 58 45", new[] { "iPXE" })] // RFC 3004 form
    [InlineData("01 61 02 62 63", new[] { "a", "bc" })]
    [InlineData("03 61 62", new[] { "\u0003ab" })] // not a valid RFC 3004 list: plain
    [InlineData("00 61", new[] { "\0a" })] // zero-length instance is invalid RFC 3004
    public void User_class_both_formats(string valueHex, string[] expected)
    {
        var value = TestPackets.Hex(valueHex);
        var message = TestPackets.Parse(TestPackets.Request([0x4d, (byte)value.Length, .. value, 0xff]));

        Assert.Equal(expected, message.Options.UserClasses);
    }

    [Fact]
    public void User_class_setters()
    {
        var options = new DhcpOptions();
        options.SetUserClasses(["iPXE", "x"]);
        Assert.Equal(TestPackets.Hex("04 69 50 58 45 01 78"), options.GetSpan(DhcpOptionCode.UserClass).ToArray());
        Assert.True(options.HasUserClass("iPXE"));
        Assert.False(options.HasUserClass("ipxe"));

        options.SetPlainUserClass("iPXE");
        Assert.Equal(TestPackets.Hex("69 50 58 45"), options.GetSpan(DhcpOptionCode.UserClass).ToArray());
        Assert.True(options.HasUserClass("iPXE"));
    }

    [Fact]
    public void Client_machine_id_reads_like_linux_product_uuid()
    {
        // qemu -uuid 4c4c4544-0042-3510-8051-b4c04f4e3232: SMBIOS stores the first three fields
        // little-endian; PXE firmware copies those bytes into option 97 after the type byte 0.
        var message = TestPackets.Parse(TestPackets.Request("61 11 00 44454c4c 4200 1035 8051 b4c04f4e3232 ff"));

        Assert.Equal(Guid.Parse("4c4c4544-0042-3510-8051-b4c04f4e3232"), message.Options.ClientMachineId);
        Assert.Equal("4c4c4544-0042-3510-8051-b4c04f4e3232", message.Options.ClientMachineId.ToString());

        var options = new DhcpOptions { ClientMachineId = Guid.Parse("4c4c4544-0042-3510-8051-b4c04f4e3232") };
        Assert.Equal(TestPackets.Hex("00 44454c4c 4200 1035 8051 b4c04f4e3232"), options.GetSpan(DhcpOptionCode.ClientMachineIdentifier).ToArray());
    }

    [Theory]
    [InlineData("61 10 00 44454c4c42001035 8051b4c04f4e32")] // too short
    [InlineData("61 11 01 44454c4c42001035 8051b4c04f4e3232")] // type not 0
    public void Client_machine_id_malformed_is_null(string optionsHex) =>
        Assert.Null(TestPackets.Parse(TestPackets.Request(optionsHex)).Options.ClientMachineId);

    [Fact]
    public void Domain_search_rfc3397_example_with_compression_split_over_two_options()
    {
        // RFC 3397 §3 (example): "eng.apple.com." and "marketing.apple.com." in two option 119 occurrences.
        var message = TestPackets.Parse(TestPackets.Request(
            "77 09 03 65 6e 67 05 61 70 70 6c " +
            "77 12 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04 ff"));

        Assert.Equal(["eng.apple.com", "marketing.apple.com"], message.Options.DomainSearch);
    }

    [Theory]
    [InlineData("c0 00")] // pointer to itself
    [InlineData("03 61 62 63 c0 00")] // pointer back to the name's own start: a loop
    [InlineData("03 61 62 63 00 03 64 65 66 c0 05")] // pointer to the start of the name being read
    [InlineData("c0 04 00 00 03 61 62 63 00")] // forward pointer
    [InlineData("05 01 61 c0 01 00 00 c0 01")] // pointer into a label's bytes that point back to themselves
    [InlineData("03 61 62")] // truncated label
    [InlineData("03 61 62 63")] // no terminating zero
    [InlineData("c0")] // truncated pointer
    [InlineData("40 61")] // reserved label type
    [InlineData("03 61 2e 62 00")] // a dot inside a label cannot round-trip
    public void Domain_search_malformed_or_looping_is_null(string valueHex)
    {
        var value = TestPackets.Hex(valueHex);
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.DomainSearch, value);

        Assert.Null(options.DomainSearch);
    }

    [Fact]
    public void Domain_search_pointer_chains_that_move_backwards_decode()
    {
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.DomainSearch, TestPackets.Hex("03 61 62 63 00 01 78 c0 00 01 79 c0 05"));

        Assert.Equal(["abc", "x.abc", "y.x.abc"], options.DomainSearch);
    }

    [Fact]
    public void Domain_search_longer_than_255_bytes_is_refused()
    {
        var label = "3f" + new string('6', 126);
        var hex = string.Concat(Enumerable.Repeat(label, 5)) + "00"; // 5 × 64 bytes > 255
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.DomainSearch, TestPackets.Hex(hex));

        Assert.Null(options.DomainSearch);
        Assert.Throws<ArgumentException>(() => options.DomainSearch = [string.Join('.', Enumerable.Repeat(new string('a', 63), 5))]);
    }

    [Fact]
    public void Domain_search_encodes_uncompressed()
    {
        var options = new DhcpOptions { DomainSearch = ["eng.apple.com.", "apple.com"] };

        Assert.Equal(
            TestPackets.Hex("03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 05 61 70 70 6c 65 03 63 6f 6d 00"),
            options.GetSpan(DhcpOptionCode.DomainSearch).ToArray());
    }

    [Fact]
    public void Relay_agent_information_sub_options()
    {
        var message = TestPackets.Parse(TestPackets.Request("35 01 03 52 0c 01 04 00 01 00 02 02 04 0a 0b 0c 0d ff"));

        var relay = message.Options.RelayAgentInformation;

        Assert.NotNull(relay);
        Assert.Equal(2, relay.Count);
        Assert.True(relay.TryGet(1, out var circuitId));
        Assert.Equal(TestPackets.Hex("00 01 00 02"), circuitId.ToArray());
        Assert.True(relay.TryGet(2, out var remoteId));
        Assert.Equal(TestPackets.Hex("0a 0b 0c 0d"), remoteId.ToArray());
    }

    [Theory]
    [InlineData("01 05 00")] // runs past the end
    [InlineData("01")] // code without length
    public void Malformed_sub_options_are_null(string valueHex)
    {
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.RelayAgentInformation, TestPackets.Hex(valueHex));

        Assert.Null(options.RelayAgentInformation);
        Assert.Equal(TestPackets.Hex(valueHex), options.GetSpan(DhcpOptionCode.RelayAgentInformation).ToArray()); // raw kept
    }

    [Fact]
    public void Sub_option_count_is_limited()
    {
        var value = Enumerable.Repeat(TestPackets.Hex("01 00"), 65).SelectMany(b => b).ToArray();

        Assert.False(DhcpSubOptions.TryParse(value, DhcpLimits.Default, out _));
        Assert.True(DhcpSubOptions.TryParse(value, DhcpLimits.Default with { MaxSubOptionCount = 65 }, out var parsed));
        Assert.Equal(65, parsed!.Count);
    }

    [Fact]
    public void Vendor_specific_pxe_sub_options_with_end()
    {
        // PXE discovery control (6) = 8, then end: as PXE boot servers send it in option 43.
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.VendorSpecificInformation, TestPackets.Hex("06 01 08 ff"));

        var sub = options.GetSubOptions(DhcpOptionCode.VendorSpecificInformation);

        Assert.Equal(TestPackets.Hex("06 01 08 ff"), options.VendorSpecificInformation?.ToArray());
        Assert.NotNull(sub);
        Assert.Single(sub);
        Assert.Equal(6, sub[0].Code);
    }

    [Fact]
    public void Architectures_ndi_and_max_size()
    {
        var options = new DhcpOptions
        {
            ClientArchitectures = [ClientArchitecture.EfiX64, ClientArchitecture.EfiX64Http],
            ClientNetworkInterfaceId = new ClientNetworkInterfaceIdentifier(1, 3, 16),
            MaxMessageSize = 1472,
            ParameterRequestList = [DhcpOptionCode.SubnetMask, DhcpOptionCode.Router, (DhcpOptionCode)175],
            RequestedIPAddress = IPAddress.Parse("10.0.0.9"),
            ClientIdentifier = TestPackets.Hex("01 52 54 00 12 34 56"),
        };

        Assert.Equal(TestPackets.Hex("00 07 00 10"), options.GetSpan(DhcpOptionCode.ClientSystemArchitecture).ToArray());
        Assert.Equal(TestPackets.Hex("01 03 10"), options.GetSpan(DhcpOptionCode.ClientNetworkInterfaceIdentifier).ToArray());
        Assert.Equal(TestPackets.Hex("05 c0"), options.GetSpan(DhcpOptionCode.MaximumMessageSize).ToArray());
        Assert.Equal(TestPackets.Hex("01 03 af"), options.GetSpan(DhcpOptionCode.ParameterRequestList).ToArray());
        Assert.Equal([ClientArchitecture.EfiX64, ClientArchitecture.EfiX64Http], options.ClientArchitectures);
        Assert.Equal(new ClientNetworkInterfaceIdentifier(1, 3, 16), options.ClientNetworkInterfaceId);
        Assert.Equal((ushort)1472, options.MaxMessageSize);
        Assert.Equal(IPAddress.Parse("10.0.0.9"), options.RequestedIPAddress);

        options.ClientArchitectures = null;
        Assert.False(options.Contains(DhcpOptionCode.ClientSystemArchitecture));
    }

    [Theory]
    [InlineData(DhcpOptionCode.DhcpMessageType, "01 02")]
    [InlineData(DhcpOptionCode.ServerIdentifier, "0a 00 00")]
    [InlineData(DhcpOptionCode.IPAddressLeaseTime, "00 00 0e")]
    [InlineData(DhcpOptionCode.Router, "0a 00 00 01 0a")]
    [InlineData(DhcpOptionCode.ClientSystemArchitecture, "00")]
    [InlineData(DhcpOptionCode.ClientNetworkInterfaceIdentifier, "01 02")]
    [InlineData(DhcpOptionCode.MaximumMessageSize, "05")]
    public void Malformed_typed_options_read_as_null_but_stay_raw(DhcpOptionCode code, string valueHex)
    {
        var options = new DhcpOptions();
        options.Set(code, TestPackets.Hex(valueHex));

        object? typed = code switch
        {
            DhcpOptionCode.DhcpMessageType => options.MessageType,
            DhcpOptionCode.ServerIdentifier => options.ServerIdentifier,
            DhcpOptionCode.IPAddressLeaseTime => options.LeaseTimeSeconds,
            DhcpOptionCode.Router => options.Routers,
            DhcpOptionCode.ClientSystemArchitecture => options.ClientArchitectures,
            DhcpOptionCode.ClientNetworkInterfaceIdentifier => options.ClientNetworkInterfaceId,
            DhcpOptionCode.MaximumMessageSize => options.MaxMessageSize,
            _ => throw new InvalidOperationException(),
        };

        Assert.Null(typed);
        Assert.True(options.Contains(code));
    }

    [Fact]
    public void Absent_raw_options_read_as_null_not_as_empty()
    {
        // Regression (found by the golden OVMF packet): `found ? memory : null` converts the null
        // through byte[] into an empty ReadOnlyMemory, so an absent option 61 read as present.
        var options = new DhcpOptions();
        Assert.Null(options.ClientIdentifier);
        Assert.Null(options.VendorSpecificInformation);

        options.ClientIdentifier = ReadOnlyMemory<byte>.Empty;
        Assert.True(options.Contains(DhcpOptionCode.ClientIdentifier));
        Assert.Equal(0, options.ClientIdentifier?.Length);
    }

    [Fact]
    public void New_options_go_before_a_trailing_option_82()
    {
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.RelayAgentInformation, TestPackets.Hex("01 01 07"));
        options.MessageType = DhcpMessageType.Ack;
        options.LeaseTimeSeconds = 60;
        options.MessageType = DhcpMessageType.Nak; // replaced in place

        Assert.Equal(
            new[] { DhcpOptionCode.DhcpMessageType, DhcpOptionCode.IPAddressLeaseTime, DhcpOptionCode.RelayAgentInformation },
            options.Select(o => o.Code));
        Assert.Equal(DhcpMessageType.Nak, options.MessageType);
    }

    [Fact]
    public void String_options_drop_trailing_nul_and_are_latin1()
    {
        var options = new DhcpOptions();
        options.Set(DhcpOptionCode.HostName, TestPackets.Hex("68 6f 73 74 00"));
        Assert.Equal("host", options.HostName);

        options.Set(DhcpOptionCode.HostName, TestPackets.Hex("e9"));
        Assert.Equal("\u00e9", options.HostName);

        Assert.Throws<ArgumentException>(() => options.HostName = "\u4e2d");
    }
}
