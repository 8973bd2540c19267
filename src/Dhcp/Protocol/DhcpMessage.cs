using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// A DHCPv4 message (RFC 2131 §2): the fixed BOOTP header and the options. Decoded with
/// <see cref="TryParse"/>, encoded with <see cref="TryWrite"/>. Mutable so a handler can fill in a
/// reply; every value it can hold encodes to a datagram that <see cref="TryParse"/> accepts
/// (within <see cref="DhcpLimits.MaxDatagramSizeCap"/>).
/// </summary>
public sealed class DhcpMessage
{
    /// <summary>op … file: the fixed BOOTP header (RFC 951, RFC 2131 §2).</summary>
    public const int HeaderLength = 236;

    /// <summary>The header plus the magic cookie: where options start.</summary>
    public const int OptionsOffset = HeaderLength + 4;

    /// <summary>RFC 2131 §3: 99.130.83.99.</summary>
    public const uint MagicCookie = 0x63825363;

    /// <summary>
    /// Encoded messages are padded to the BOOTP message size (RFC 951: 64-byte vend field; RFC
    /// 1542 §2.1): some relay agents and PXE ROMs drop shorter ones.
    /// </summary>
    public const int MinimumEncodedLength = 300;

    public const int ClientHardwareAddressFieldLength = 16;
    public const int ServerNameFieldLength = 64;
    public const int BootFileFieldLength = 128;

    private const ushort BroadcastFlag = 0x8000;
    private const int ChaddrOffset = 28;
    private const int SnameOffset = 44;
    private const int FileOffset = 108;

    private ReadOnlyMemory<byte> _chaddr = new byte[ClientHardwareAddressFieldLength];
    private ReadOnlyMemory<byte> _sname = new byte[ServerNameFieldLength];
    private ReadOnlyMemory<byte> _file = new byte[BootFileFieldLength];

    public DhcpOpCode Op
    {
        get;
        set => field = value is DhcpOpCode.BootRequest or DhcpOpCode.BootReply
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "op is BOOTREQUEST or BOOTREPLY.");
    } = DhcpOpCode.BootRequest;

    /// <summary><c>htype</c>: ARP hardware type, 1 for Ethernet.</summary>
    public byte HardwareType { get; set; } = 1;

    /// <summary><c>hlen</c>: at most 16.</summary>
    public byte HardwareAddressLength
    {
        get;
        set => field = value <= ClientHardwareAddressFieldLength
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "hlen is at most 16.");
    } = 6;

    public byte Hops { get; set; }

    /// <summary><c>xid</c>.</summary>
    public uint TransactionId { get; set; }

    /// <summary><c>secs</c>: seconds since the client began acquiring or renewing.</summary>
    public ushort Seconds { get; set; }

    /// <summary><c>flags</c>, all 16 bits as received (RFC 2131 §2 reserves all but the broadcast bit).</summary>
    public ushort Flags { get; set; }

    /// <summary>The BROADCAST bit of <see cref="Flags"/> (RFC 2131 §4.1).</summary>
    public bool IsBroadcast
    {
        get => (Flags & BroadcastFlag) != 0;
        set => Flags = value ? (ushort)(Flags | BroadcastFlag) : (ushort)(Flags & ~BroadcastFlag);
    }

    /// <summary><c>ciaddr</c>.</summary>
    public IPAddress ClientIPAddress
    {
        get;
        set => field = RequireIPv4(value);
    } = IPAddress.Any;

    /// <summary><c>yiaddr</c>.</summary>
    public IPAddress YourIPAddress
    {
        get;
        set => field = RequireIPv4(value);
    } = IPAddress.Any;

    /// <summary><c>siaddr</c>: next server (TFTP) address.</summary>
    public IPAddress ServerIPAddress
    {
        get;
        set => field = RequireIPv4(value);
    } = IPAddress.Any;

    /// <summary><c>giaddr</c>: relay agent address.</summary>
    public IPAddress RelayAgentIPAddress
    {
        get;
        set => field = RequireIPv4(value);
    } = IPAddress.Any;

    /// <summary>The whole 16-byte <c>chaddr</c> field, bytes past <c>hlen</c> included.</summary>
    public ReadOnlySpan<byte> ClientHardwareAddressField => _chaddr.Span;

    /// <summary>The first <c>hlen</c> bytes of <c>chaddr</c>.</summary>
    public ReadOnlySpan<byte> ClientHardwareAddress => _chaddr.Span[..HardwareAddressLength];

    /// <summary>The client MAC when <c>htype</c> is Ethernet (1) and <c>hlen</c> is 6; otherwise null.</summary>
    public PhysicalAddress? ClientMacAddress =>
        HardwareType == 1 && HardwareAddressLength == 6 ? new PhysicalAddress(_chaddr.Span[..6].ToArray()) : null;

    /// <summary><c>sname</c> (raw 64 bytes). Zeroed when the field carried overloaded options.</summary>
    public ReadOnlySpan<byte> ServerNameField => _sname.Span;

    /// <summary><c>file</c> (raw 128 bytes). Zeroed when the field carried overloaded options.</summary>
    public ReadOnlySpan<byte> BootFileField => _file.Span;

    /// <summary><c>sname</c> up to its first NUL (Latin-1). Setting zero-fills the field; at most 63 bytes.</summary>
    public string ServerName
    {
        get => ReadCString(_sname.Span);
        set => _sname = WriteCString(value, ServerNameFieldLength);
    }

    /// <summary><c>file</c> up to its first NUL (Latin-1). Setting zero-fills the field; at most 127 bytes.</summary>
    public string BootFileName
    {
        get => ReadCString(_file.Span);
        set => _file = WriteCString(value, BootFileFieldLength);
    }

    public DhcpOptions Options { get; } = new();

    /// <summary>Sets <c>chaddr</c> (zero-padded) and <c>hlen</c>. At most 16 bytes.</summary>
    public void SetClientHardwareAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length > ClientHardwareAddressFieldLength)
        {
            throw new ArgumentException("chaddr is at most 16 bytes.", nameof(address));
        }

        var field = new byte[ClientHardwareAddressFieldLength];
        address.CopyTo(field);
        _chaddr = field;
        HardwareAddressLength = (byte)address.Length;
    }

    /// <summary>Sets the whole 16-byte <c>chaddr</c> field as is, leaving <c>hlen</c> alone.</summary>
    public void SetClientHardwareAddressField(ReadOnlySpan<byte> field)
    {
        if (field.Length != ClientHardwareAddressFieldLength)
        {
            throw new ArgumentException("chaddr is 16 bytes.", nameof(field));
        }

        _chaddr = field.ToArray();
    }

    /// <summary>
    /// The message type (option 53) read straight from the options field of a datagram, without decoding it; null when
    /// the datagram is not plainly a DHCP message or option 53 is not in its options field (an overloaded
    /// <c>file</c>/<c>sname</c> is not looked at). For shedding load before the full decode; never throws.
    /// </summary>
    public static DhcpMessageType? PeekMessageType(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < HeaderLength + 4 || BinaryPrimitives.ReadUInt32BigEndian(datagram[HeaderLength..]) != MagicCookie)
        {
            return null;
        }

        var i = HeaderLength + 4;
        while (i < datagram.Length)
        {
            var code = datagram[i];
            if (code == 0)
            {
                i++;
                continue;
            }

            if (code == 255 || i + 1 >= datagram.Length)
            {
                return null;
            }

            var length = datagram[i + 1];
            if (i + 2 + length > datagram.Length)
            {
                return null;
            }

            if (code == 53)
            {
                return length == 1 ? (DhcpMessageType)datagram[i + 2] : null;
            }

            i += 2 + length;
        }

        return null;
    }

    /// <summary>
    /// Decodes one UDP payload. Never throws on any input (only on a null <paramref name="limits"/>).
    /// Checks, in order: size, <c>op</c>, <c>hlen</c>, magic cookie, then options in the
    /// <c>options</c> field, then <c>file</c> and <c>sname</c> when option 52 says they are
    /// overloaded (RFC 2131 §4.1). A missing end option is tolerated: the area ends where the
    /// datagram (or the field) ends, as ISC dhcpd and Kea accept. Bytes after the end option are
    /// padding and ignored.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, DhcpLimits limits, [NotNullWhen(true)] out DhcpMessage? message, out DhcpParseError error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        message = null;
        error = Validate(datagram, limits);
        if (error != DhcpParseError.None)
        {
            return false;
        }

        var buffer = datagram.ToArray();
        var parsed = new DhcpMessage
        {
            Op = (DhcpOpCode)buffer[0],
            HardwareType = buffer[1],
            HardwareAddressLength = buffer[2],
            Hops = buffer[3],
            TransactionId = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4)),
            Seconds = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(8)),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(10)),
            ClientIPAddress = ReadAddress(buffer, 12),
            YourIPAddress = ReadAddress(buffer, 16),
            ServerIPAddress = ReadAddress(buffer, 20),
            RelayAgentIPAddress = ReadAddress(buffer, 24),
            _chaddr = buffer.AsMemory(ChaddrOffset, ClientHardwareAddressFieldLength),
            _sname = buffer.AsMemory(SnameOffset, ServerNameFieldLength),
            _file = buffer.AsMemory(FileOffset, BootFileFieldLength),
        };

        var counters = new OptionCounters();
        error = ParseArea(buffer, OptionsOffset, buffer.Length, parsed.Options, limits, ref counters, isMainArea: true);
        if (error != DhcpParseError.None)
        {
            return false;
        }

        if (parsed.Options.TryGet(DhcpOptionCode.OptionOverload, out var overloadValue))
        {
            if (overloadValue.Span is not [var overload and >= 1 and <= 3])
            {
                error = DhcpParseError.BadOverload;
                return false;
            }

            parsed.Options.Remove(DhcpOptionCode.OptionOverload);
            if ((overload & 1) != 0)
            {
                error = ParseArea(buffer, FileOffset, FileOffset + BootFileFieldLength, parsed.Options, limits, ref counters, isMainArea: false);
                parsed._file = new byte[BootFileFieldLength];
            }

            if (error == DhcpParseError.None && (overload & 2) != 0)
            {
                error = ParseArea(buffer, SnameOffset, SnameOffset + ServerNameFieldLength, parsed.Options, limits, ref counters, isMainArea: false);
                parsed._sname = new byte[ServerNameFieldLength];
            }

            if (error != DhcpParseError.None)
            {
                return false;
            }
        }

        message = parsed;
        return true;
    }

    /// <summary>Bytes <see cref="TryWrite"/> will write: header, cookie, options, end, padding to 300.</summary>
    public int GetEncodedLength() => Math.Max(MinimumEncodedLength, OptionsOffset + Options.GetEncodedLength() + 1);

    /// <summary>
    /// Encodes the message. Options go in order in the <c>options</c> field (never overloaded into
    /// <c>sname</c>/<c>file</c>), long values split (RFC 3396), then the end option and zero padding to
    /// <see cref="MinimumEncodedLength"/>. Returns false, writing nothing, when the destination is too small.
    /// </summary>
    public bool TryWrite(Span<byte> destination, out int bytesWritten)
    {
        var length = GetEncodedLength();
        if (destination.Length < length)
        {
            bytesWritten = 0;
            return false;
        }

        var d = destination[..length];
        d.Clear();
        d[0] = (byte)Op;
        d[1] = HardwareType;
        d[2] = HardwareAddressLength;
        d[3] = Hops;
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(d[8..], Seconds);
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], Flags);
        WriteAddress(d[12..], ClientIPAddress);
        WriteAddress(d[16..], YourIPAddress);
        WriteAddress(d[20..], ServerIPAddress);
        WriteAddress(d[24..], RelayAgentIPAddress);
        _chaddr.Span.CopyTo(d[ChaddrOffset..]);
        _sname.Span.CopyTo(d[SnameOffset..]);
        _file.Span.CopyTo(d[FileOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[HeaderLength..], MagicCookie);
        var end = OptionsOffset + Options.WriteTo(d[OptionsOffset..]);
        d[end] = (byte)DhcpOptionCode.End;
        bytesWritten = length;
        return true;
    }

    /// <summary>
    /// A BOOTREPLY skeleton for <paramref name="request"/> (RFC 2131 §4.3, table 3): <c>htype</c>,
    /// <c>hlen</c>, <c>xid</c>, <c>flags</c>, <c>giaddr</c> and <c>chaddr</c> copied; option 82 echoed
    /// as the last option (RFC 3046 §2.2). Everything else, message type included, is the handler's.
    /// </summary>
    public static DhcpMessage CreateReply(DhcpMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reply = new DhcpMessage
        {
            Op = DhcpOpCode.BootReply,
            HardwareType = request.HardwareType,
            HardwareAddressLength = request.HardwareAddressLength,
            TransactionId = request.TransactionId,
            Flags = request.Flags,
            RelayAgentIPAddress = request.RelayAgentIPAddress,
            _chaddr = request._chaddr,
        };
        if (request.Options.TryGet(DhcpOptionCode.RelayAgentInformation, out var relayAgentInformation))
        {
            reply.Options.Set(DhcpOptionCode.RelayAgentInformation, relayAgentInformation.Span);
        }

        return reply;
    }

    internal static byte[] GetIPv4Bytes(IPAddress address)
    {
        var bytes = new byte[4];
        WriteAddress(bytes, RequireIPv4(address));
        return bytes;
    }

    private static DhcpParseError Validate(ReadOnlySpan<byte> datagram, DhcpLimits limits)
    {
        if (datagram.Length < OptionsOffset)
        {
            return DhcpParseError.TooShort;
        }

        if (datagram.Length > limits.MaxDatagramSize)
        {
            return DhcpParseError.TooLong;
        }

        if (datagram[0] is not ((byte)DhcpOpCode.BootRequest or (byte)DhcpOpCode.BootReply))
        {
            return DhcpParseError.BadOp;
        }

        if (datagram[2] > ClientHardwareAddressFieldLength)
        {
            return DhcpParseError.BadHardwareLength;
        }

        return BinaryPrimitives.ReadUInt32BigEndian(datagram[HeaderLength..]) != MagicCookie
            ? DhcpParseError.BadMagicCookie
            : DhcpParseError.None;
    }

    private struct OptionCounters
    {
        public int Occurrences;
        public int ValueBytes;
    }

    private static DhcpParseError ParseArea(byte[] buffer, int start, int end, DhcpOptions options, DhcpLimits limits, ref OptionCounters counters, bool isMainArea)
    {
        var i = start;
        while (i < end)
        {
            var code = buffer[i];
            if (code == (byte)DhcpOptionCode.Pad)
            {
                i++;
                continue;
            }

            if (code == (byte)DhcpOptionCode.End)
            {
                return DhcpParseError.None;
            }

            if (i + 1 >= end)
            {
                return DhcpParseError.TruncatedOption;
            }

            int length = buffer[i + 1];
            if (i + 2 + length > end)
            {
                return DhcpParseError.TruncatedOption;
            }

            if (++counters.Occurrences > limits.MaxOptionCount)
            {
                return DhcpParseError.TooManyOptions;
            }

            counters.ValueBytes += length;
            if (counters.ValueBytes > limits.MaxTotalOptionBytes)
            {
                return DhcpParseError.OptionsTooLong;
            }

            if (code == (byte)DhcpOptionCode.OptionOverload && !isMainArea)
            {
                return DhcpParseError.BadOverload;
            }

            options.AppendDecoded((DhcpOptionCode)code, buffer.AsMemory(i + 2, length));
            i += 2 + length;
        }

        return DhcpParseError.None;
    }

    private static IPAddress ReadAddress(byte[] buffer, int offset)
    {
        var span = buffer.AsSpan(offset, 4);
        return span.IndexOfAnyExcept((byte)0) < 0 ? IPAddress.Any : new IPAddress(span);
    }

    private static void WriteAddress(Span<byte> destination, IPAddress address) =>
        address.TryWriteBytes(destination[..4], out _);

    private static IPAddress RequireIPv4(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetwork
            ? address
            : throw new ArgumentException("DHCPv4 carries IPv4 addresses only.", nameof(address));
    }

    private static string ReadCString(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        return Encoding.Latin1.GetString(nul >= 0 ? field[..nul] : field);
    }

    private static byte[] WriteCString(string value, int fieldLength)
    {
        var bytes = DhcpOptions.EncodeLatin1(value);
        if (bytes.Length >= fieldLength || bytes.AsSpan().Contains((byte)0))
        {
            throw new ArgumentException($"At most {fieldLength - 1} characters, no NUL.", nameof(value));
        }

        var field = new byte[fieldLength];
        bytes.CopyTo(field, 0);
        return field;
    }
}
