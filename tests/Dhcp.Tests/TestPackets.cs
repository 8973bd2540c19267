using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

internal static class TestPackets
{
    public static readonly string[] GoldenNames =
    [
        "udhcpc-discover.bin",
        "udhcpc-request-selecting.bin",
        "udhcpc-request-renewing.bin",
        "udhcpc-release.bin",
        "udhcpd-offer.bin",
        "udhcpd-ack.bin",
        "udhcpc-pxe-options-discover.bin",
        "dhclient-discover.bin",
        "dhclient-request-selecting.bin",
        "dhclient-release.bin",
        "dhclient-request-init-reboot.bin",
        "ipxe-bios-discover.bin",
        "ipxe-bios-request.bin",
        "ipxe-efi-discover.bin",
        "ipxe-efi-request.bin",
        "ovmf-pxe-discover.bin",
        "ovmf-pxe-request.bin",
        "ovmf-http-discover.bin",
    ];

    private static readonly Dictionary<string, byte[]> Cache = GoldenNames.ToDictionary(
        n => n,
        n => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", n)));

    public static byte[] Golden(string name) => (byte[])Cache[name].Clone();

    public static IReadOnlyList<byte[]> AllGolden => [.. GoldenNames.Select(Golden)];

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>A BOOTREQUEST header (xid 0x01020304, MAC 52:54:00:12:34:56) with the magic cookie, then <paramref name="options"/>.</summary>
    public static byte[] Request(ReadOnlySpan<byte> options)
    {
        var datagram = new byte[DhcpMessage.OptionsOffset + options.Length];
        datagram[0] = 1;
        datagram[1] = 1;
        datagram[2] = 6;
        datagram[4] = 1;
        datagram[5] = 2;
        datagram[6] = 3;
        datagram[7] = 4;
        Hex("525400123456").CopyTo(datagram, 28);
        Hex("63825363").CopyTo(datagram, 236);
        options.CopyTo(datagram.AsSpan(DhcpMessage.OptionsOffset));
        return datagram;
    }

    public static byte[] Request(string optionsHex) => Request(Hex(optionsHex));

    public static DhcpMessage Parse(byte[] datagram)
    {
        Assert.True(DhcpMessage.TryParse(datagram, DhcpLimits.Default, out var message, out var error), $"parse failed: {error}");
        Assert.Equal(DhcpParseError.None, error);
        return message;
    }

    public static byte[] Encode(DhcpMessage message)
    {
        var length = message.GetEncodedLength();
        var buffer = new byte[length + 64];
        buffer.AsSpan().Fill(0xFF);
        Assert.True(message.TryWrite(buffer, out var written));
        Assert.Equal(length, written);
        Assert.All(buffer[written..], b => Assert.Equal(0xFF, b));
        return buffer[..written];
    }
}

internal static class MessageAssert
{
    public static void Equal(DhcpMessage expected, DhcpMessage actual)
    {
        Assert.Equal(expected.Op, actual.Op);
        Assert.Equal(expected.HardwareType, actual.HardwareType);
        Assert.Equal(expected.HardwareAddressLength, actual.HardwareAddressLength);
        Assert.Equal(expected.Hops, actual.Hops);
        Assert.Equal(expected.TransactionId, actual.TransactionId);
        Assert.Equal(expected.Seconds, actual.Seconds);
        Assert.Equal(expected.Flags, actual.Flags);
        Assert.Equal(expected.ClientIPAddress, actual.ClientIPAddress);
        Assert.Equal(expected.YourIPAddress, actual.YourIPAddress);
        Assert.Equal(expected.ServerIPAddress, actual.ServerIPAddress);
        Assert.Equal(expected.RelayAgentIPAddress, actual.RelayAgentIPAddress);
        Assert.Equal(expected.ClientHardwareAddressField.ToArray(), actual.ClientHardwareAddressField.ToArray());
        Assert.Equal(expected.ServerNameField.ToArray(), actual.ServerNameField.ToArray());
        Assert.Equal(expected.BootFileField.ToArray(), actual.BootFileField.ToArray());
        Assert.Equal(expected.Options.Select(o => o.Code), actual.Options.Select(o => o.Code));
        for (var i = 0; i < expected.Options.Count; i++)
        {
            Assert.Equal(expected.Options[i].Value.ToArray(), actual.Options[i].Value.ToArray());
        }
    }
}
