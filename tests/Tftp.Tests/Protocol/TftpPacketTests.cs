using System.Text;
using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Tests.Protocol;

public class TftpPacketTests
{
    private static readonly TftpLimits Limits = TftpLimits.Default;

    [Theory]
    [InlineData("\0\u0001pxelinux.0\0octet\0", "pxelinux.0", TftpTransferMode.Octet, "")]
    [InlineData("\0\u0001pxelinux.0\0OCTET\0", "pxelinux.0", TftpTransferMode.Octet, "")]
    [InlineData("\0\u0001a\0NetAscii\0", "a", TftpTransferMode.NetAscii, "")]
    [InlineData("\0\u0001a\0mail\0", "a", TftpTransferMode.Mail, "")]
    [InlineData("\0\u0001/boot/ipxe.efi\0octet\0tsize\00\0blksize\01468\0", "/boot/ipxe.efi", TftpTransferMode.Octet, "tsize=0;blksize=1468")]
    [InlineData("\0\u0001f\0octet\0\0\0\0", "f", TftpTransferMode.Octet, "")] // NUL padding after the request
    [InlineData("\0\u0001f\0octet\0multicast\0\0", "f", TftpTransferMode.Octet, "multicast=")] // RFC 2090: empty value
    [InlineData("\0\u0001f\0octet\0BlkSize\0512\0x-vendor\0yes\0", "f", TftpTransferMode.Octet, "BlkSize=512;x-vendor=yes")]
    [InlineData("\0\u0001caf\u00c3\u00a9.efi\0octet\0", "café.efi", TftpTransferMode.Octet, "")] // UTF-8 file name
    [InlineData("\0\u0001a\u0001b\0octet\0", "a\u0001b", TftpTransferMode.Octet, "")] // control characters are the file source's business
    public void TryParse_ValidReadRequest_Decodes(string wire, string fileName, TftpTransferMode mode, string options)
    {
        Assert.True(TftpPacket.TryParse(Wire.Of(wire), Limits, out var packet, out var error));
        Assert.Equal(TftpParseError.None, error);
        var request = Assert.IsType<TftpRequest>(packet);
        Assert.Equal(TftpOpcode.ReadRequest, request.Opcode);
        Assert.Equal(fileName, request.FileName);
        Assert.Equal(mode, request.Mode);
        Assert.Equal(options, string.Join(';', request.Options.Select(o => $"{o.Name}={o.Value}")));
    }

    [Fact]
    public void TryParse_WriteRequest_Decodes()
    {
        Assert.True(TftpPacket.TryParse(Wire.Of("\0\u0002up.bin\0octet\0"), Limits, out var packet, out _));
        var request = Assert.IsType<TftpRequest>(packet);
        Assert.Equal(TftpOpcode.WriteRequest, request.Opcode);
        Assert.Equal("up.bin", request.FileName);
    }

    [Theory]
    [InlineData("\0\u0003\0\u0001abc", 1, "abc")]
    [InlineData("\0\u0003\0\u0002", 2, "")]
    [InlineData("\0\u0003\u00ff\u00ff\0\0", 65535, "\0\0")]
    public void TryParse_Data_Decodes(string wire, int block, string payload)
    {
        Assert.True(TftpPacket.TryParse(Wire.Of(wire), Limits, out var packet, out _));
        var data = Assert.IsType<TftpData>(packet);
        Assert.Equal(block, data.Block);
        Assert.Equal(Wire.Of(payload), data.Payload.ToArray());
    }

    [Theory]
    [InlineData("\0\u0004\0\0", 0)]
    [InlineData("\0\u0004\u00ff\u00ff", 65535)]
    [InlineData("\0\u0004\0\u0007junk", 7)] // trailing bytes ignored, as tftpd-hpa
    public void TryParse_Ack_Decodes(string wire, int block)
    {
        Assert.True(TftpPacket.TryParse(Wire.Of(wire), Limits, out var packet, out _));
        Assert.Equal(block, Assert.IsType<TftpAck>(packet).Block);
    }

    [Theory]
    [InlineData("\0\u0005\0\u0001File not found\0", TftpErrorCode.FileNotFound, "File not found")]
    [InlineData("\0\u0005\0\u0008\0", TftpErrorCode.OptionNegotiationRefused, "")]
    [InlineData("\0\u0005\0\u0000no terminator", TftpErrorCode.NotDefined, "no terminator")]
    [InlineData("\0\u0005\0\u0063odd code\0", (TftpErrorCode)99, "odd code")]
    [InlineData("\0\u0005\0\u0002bad \u00ff utf8\0", TftpErrorCode.AccessViolation, "bad \ufffd utf8")]
    public void TryParse_Error_Decodes(string wire, TftpErrorCode code, string message)
    {
        Assert.True(TftpPacket.TryParse(Wire.Of(wire), Limits, out var packet, out _));
        var error = Assert.IsType<TftpError>(packet);
        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void TryParse_OptionAck_Decodes()
    {
        Assert.True(TftpPacket.TryParse(Wire.Of("\0\u0006blksize\01468\0tsize\04194304\0"), Limits, out var packet, out _));
        var oack = Assert.IsType<TftpOptionAck>(packet);
        Assert.Equal([new("blksize", "1468"), new("tsize", "4194304")], oack.Options);
    }

    public static TheoryData<string, byte[], TftpParseError> Invalid()
    {
        var data = new TheoryData<string, byte[], TftpParseError>
        {
            { "empty", [], TftpParseError.TooShort },
            { "one byte", [0], TftpParseError.TooShort },
            { "opcode 0", Wire.Of("\0\0x\0octet\0"), TftpParseError.UnknownOpcode },
            { "opcode 7", Wire.Of("\0\u0007x\0octet\0"), TftpParseError.UnknownOpcode },
            { "opcode 0x0101", Wire.Of("\u0001\u0001x\0octet\0"), TftpParseError.UnknownOpcode },
            { "rrq, nothing", Wire.Of("\0\u0001"), TftpParseError.UnterminatedString },
            { "rrq, unterminated name", Wire.Of("\0\u0001file"), TftpParseError.UnterminatedString },
            { "rrq, no mode", Wire.Of("\0\u0001file\0"), TftpParseError.UnterminatedString },
            { "rrq, unterminated mode", Wire.Of("\0\u0001file\0octet"), TftpParseError.UnterminatedString },
            { "rrq, empty name", Wire.Of("\0\u0001\0octet\0"), TftpParseError.EmptyFileName },
            { "rrq, name over 255 bytes", Wire.Of(Wire.Rrq(new string('a', 256))), TftpParseError.FileNameTooLong },
            { "rrq, name not UTF-8", Wire.Of("\0\u0001\u00ff\u00fe\0octet\0"), TftpParseError.FileNameNotUtf8 },
            { "rrq, NUL inside the name leaves a bad mode", Wire.Of("\0\u0001pxe\0linux.0\0octet\0"), TftpParseError.UnknownMode },
            { "rrq, mode binary", Wire.Of("\0\u0001file\0binary\0"), TftpParseError.UnknownMode },
            { "rrq, empty mode", Wire.Of("\0\u0001file\0\0"), TftpParseError.UnknownMode },
            { "rrq, option without value", Wire.Of("\0\u0001file\0octet\0blksize\0"), TftpParseError.MalformedOption },
            { "rrq, unterminated option value", Wire.Of("\0\u0001file\0octet\0blksize\0512"), TftpParseError.UnterminatedString },
            { "rrq, unterminated option name", Wire.Of("\0\u0001file\0octet\0blksize"), TftpParseError.UnterminatedString },
            { "rrq, empty option name", Wire.Of("\0\u0001file\0octet\0\0512\0"), TftpParseError.MalformedOption },
            { "rrq, duplicate option", Wire.Of(Wire.Rrq("f", "octet", "blksize", "512", "BLKSIZE", "1024")), TftpParseError.DuplicateOption },
            { "rrq, option name too long", Wire.Of(Wire.Rrq("f", "octet", new string('o', 65), "1")), TftpParseError.OptionTooLong },
            { "rrq, option value too long", Wire.Of(Wire.Rrq("f", "octet", "blksize", new string('1', 65))), TftpParseError.OptionTooLong },
            { "rrq, 17 options", Wire.Of(Wire.Rrq("f", "octet", Enumerable.Range(0, 17).SelectMany(i => new[] { $"x{i}", "1" }).ToArray())), TftpParseError.TooManyOptions },
            { "wrq, unterminated", Wire.Of("\0\u0002file"), TftpParseError.UnterminatedString },
            { "data, no block", Wire.Of("\0\u0003\0"), TftpParseError.TooShort },
            { "data, over the largest block", [0, 3, 0, 1, .. new byte[TftpLimits.ProtocolMaxBlockSize + 1]], TftpParseError.TooLong },
            { "ack, 3 bytes", Wire.Of("\0\u0004\0"), TftpParseError.TooShort },
            { "ack, 2 bytes", Wire.Of("\0\u0004"), TftpParseError.TooShort },
            { "error, no code", Wire.Of("\0\u0005\0"), TftpParseError.TooShort },
            { "oack, empty", Wire.Of("\0\u0006"), TftpParseError.EmptyOptionAck },
            { "oack, padding only", Wire.Of("\0\u0006\0\0"), TftpParseError.EmptyOptionAck },
            { "oack, option without value", Wire.Of("\0\u0006blksize\0"), TftpParseError.MalformedOption },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void TryParse_Invalid_GivesReason(string description, byte[] datagram, TftpParseError expected)
    {
        Assert.False(TftpPacket.TryParse(datagram, Limits, out var packet, out var error), description);
        Assert.Null(packet);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TryParse_RespectsConfiguredLimits()
    {
        var tight = new TftpLimits { MaxFileNameLength = 8, MaxOptions = 1, MaxBlockSize = 512 };
        Assert.True(TftpPacket.TryParse(Wire.Of(Wire.Rrq("12345678")), tight, out _, out _));
        Assert.False(TftpPacket.TryParse(Wire.Of(Wire.Rrq("123456789")), tight, out _, out var e1));
        Assert.Equal(TftpParseError.FileNameTooLong, e1);
        Assert.False(TftpPacket.TryParse(Wire.Of(Wire.Rrq("f", "octet", "a", "1", "b", "2")), tight, out _, out var e2));
        Assert.Equal(TftpParseError.TooManyOptions, e2);
        Assert.False(TftpPacket.TryParse([0, 3, 0, 1, .. new byte[513]], tight, out _, out var e3));
        Assert.Equal(TftpParseError.TooLong, e3);
    }

    [Fact]
    public void Describe_IsFixedDistinctTextForEveryReason()
    {
        var texts = Enum.GetValues<TftpParseError>().Select(e => e.Describe()).ToList();
        Assert.All(texts, t => Assert.False(string.IsNullOrWhiteSpace(t)));
        Assert.Equal(texts.Count, texts.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Describe_NeverEchoesDatagramBytes(string description, byte[] datagram, TftpParseError expected)
    {
        _ = description;
        _ = expected;
        var marker = "ZQXJ-MARKER";
        var marked = Encoding.Latin1.GetString(datagram).Replace("file", marker, StringComparison.Ordinal);
        TftpPacket.TryParse(Wire.Of(marked), Limits, out _, out var error);
        Assert.DoesNotContain(marker, error.Describe(), StringComparison.Ordinal);
        Assert.DoesNotContain(marker, error.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, TftpPacket> RoundTripPackets() => new()
    {
        { "rrq", new TftpRequest(TftpOpcode.ReadRequest, "pxelinux.0", TftpTransferMode.Octet) },
        { "rrq with options", new TftpRequest(TftpOpcode.ReadRequest, "boot/ipxe.efi", TftpTransferMode.Octet, [new("tsize", "0"), new("blksize", "1468"), new("windowsize", "8")]) },
        { "rrq utf-8", new TftpRequest(TftpOpcode.ReadRequest, "café/ü.efi", TftpTransferMode.NetAscii) },
        { "rrq latin-1 option", new TftpRequest(TftpOpcode.ReadRequest, "f", TftpTransferMode.Mail, [new("x-\u00e9", "\u00ff")]) },
        { "wrq", new TftpRequest(TftpOpcode.WriteRequest, "up", TftpTransferMode.Octet) },
        { "data", new TftpData(1, new byte[] { 1, 2, 3, 0, 255 }) },
        { "data empty", new TftpData(65535, ReadOnlyMemory<byte>.Empty) },
        { "data full", new TftpData(42, Enumerable.Range(0, 1468).Select(i => (byte)i).ToArray()) },
        { "ack", new TftpAck(0) },
        { "ack max", new TftpAck(65535) },
        { "error", new TftpError(TftpErrorCode.FileNotFound, "File not found") },
        { "error empty", new TftpError(TftpErrorCode.OptionNegotiationRefused, "") },
        { "error utf-8", new TftpError(TftpErrorCode.NotDefined, "ünïcode") },
        { "oack", new TftpOptionAck([new("blksize", "1468"), new("tsize", "4194304")]) },
    };

    [Theory]
    [MemberData(nameof(RoundTripPackets))]
    public void TryWrite_ThenTryParse_RoundTrips(string description, TftpPacket packet)
    {
        _ = description;
        var length = packet.GetEncodedLength();
        var buffer = new byte[length + 16];
        buffer.AsSpan().Fill(0xFF);
        Assert.True(packet.TryWrite(buffer, out var written));
        Assert.Equal(length, written);
        Assert.All(buffer[length..], b => Assert.Equal(0xFF, b));

        Assert.True(TftpPacket.TryParse(buffer.AsSpan(0, written), Limits, out var parsed, out var error), error.ToString());
        Assert.Equal(packet.GetType(), parsed.GetType());
        Assert.Equal(packet.Opcode, parsed.Opcode);
        var again = new byte[length];
        Assert.True(parsed.TryWrite(again, out _));
        Assert.Equal(buffer[..length], again);
    }

    [Theory]
    [MemberData(nameof(RoundTripPackets))]
    public void TryWrite_BufferTooSmall_ReturnsFalse(string description, TftpPacket packet)
    {
        _ = description;
        for (var size = 0; size < packet.GetEncodedLength(); size++)
        {
            var buffer = new byte[size];
            Assert.False(packet.TryWrite(buffer, out var written));
            Assert.Equal(0, written);
        }
    }

    [Fact]
    public void TryWrite_DataHeader_MatchesPacket()
    {
        var buffer = new byte[4];
        TftpData.WriteHeader(buffer, 0x1234);
        Assert.Equal(new byte[] { 0, 3, 0x12, 0x34 }, buffer);
    }

    [Fact]
    public void Constructors_RefuseWhatCannotBeEncoded()
    {
        Assert.Throws<ArgumentException>(() => new TftpRequest(TftpOpcode.ReadRequest, "a\0b", TftpTransferMode.Octet));
        Assert.Throws<ArgumentException>(() => new TftpRequest(TftpOpcode.ReadRequest, "", TftpTransferMode.Octet));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TftpRequest(TftpOpcode.Data, "a", TftpTransferMode.Octet));
        Assert.Throws<ArgumentException>(() => new TftpRequest(TftpOpcode.ReadRequest, "a", TftpTransferMode.Octet, [new("", "1")]));
        Assert.Throws<ArgumentException>(() => new TftpRequest(TftpOpcode.ReadRequest, "a", TftpTransferMode.Octet, [new("x", "\u0100")]));
        Assert.Throws<ArgumentException>(() => new TftpError(TftpErrorCode.NotDefined, "a\0"));
        Assert.Throws<ArgumentException>(() => new TftpOptionAck([]));
    }

    [Theory]
    [InlineData("curl-rrq-default.hex", "pxelinux.0", "tsize=0;blksize=512;timeout=1")]
    [InlineData("curl-rrq-blksize1468.hex", "boot/ipxe.efi", "tsize=0;blksize=1468;timeout=1")]
    [InlineData("curl-rrq-no-options.hex", "undionly.kpxe", "")]
    [InlineData("atftp-rrq-default.hex", "ipxe.efi", "")]
    [InlineData("atftp-rrq-options.hex", "ipxe.efi", "tsize=enable;timeout=2;blksize=1468;windowsize=8")]
    public void TryParse_GoldenRequestsFromRealClients(string file, string fileName, string options)
    {
        var datagram = Convert.FromHexString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", file)).Trim());
        Assert.True(TftpPacket.TryParse(datagram, Limits, out var packet, out var error), error.ToString());
        var request = Assert.IsType<TftpRequest>(packet);
        Assert.Equal(fileName, request.FileName);
        Assert.Equal(TftpTransferMode.Octet, request.Mode);
        Assert.Equal(options, string.Join(';', request.Options.Select(o => $"{o.Name}={o.Value}")));

        // Re-encoding gives the captured bytes back.
        var again = new byte[request.GetEncodedLength()];
        Assert.True(request.TryWrite(again, out _));
        Assert.Equal(datagram, again);
    }
}
