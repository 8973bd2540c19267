using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// A TFTP packet (RFC 1350 §5, RFC 2347). Pure codec: no sockets, no logging. Decode with
/// <see cref="TryParse"/>, which never throws on any input; encode with <see cref="TryWrite"/>.
/// </summary>
public abstract class TftpPacket
{
    private protected TftpPacket()
    {
    }

    public abstract TftpOpcode Opcode { get; }

    /// <summary>Size of the encoded packet in bytes (the UDP payload).</summary>
    public abstract int GetEncodedLength();

    /// <summary>Encodes the packet; false (and nothing meaningful written) when <paramref name="destination"/> is too small.</summary>
    public bool TryWrite(Span<byte> destination, out int bytesWritten)
    {
        var length = GetEncodedLength();
        if (destination.Length < length)
        {
            bytesWritten = 0;
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)Opcode);
        WriteBody(destination[2..length]);
        bytesWritten = length;
        return true;
    }

    /// <summary>Writes everything after the opcode into exactly <c>GetEncodedLength() - 2</c> bytes.</summary>
    private protected abstract void WriteBody(Span<byte> body);

    /// <summary>
    /// Decodes one UDP payload. Never throws: a rejected datagram gives false and a reason. The packet
    /// owns copies of what it keeps (the datagram buffer can be reused at once).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, TftpLimits limits, [NotNullWhen(true)] out TftpPacket? packet, out TftpParseError error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        packet = null;
        if (datagram.Length < 2)
        {
            error = TftpParseError.TooShort;
            return false;
        }

        if (datagram.Length > 4 + Math.Max(limits.MaxBlockSize, TftpLimits.DefaultBlockSize))
        {
            error = TftpParseError.TooLong;
            return false;
        }

        var body = datagram[2..];
        error = (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(datagram) switch
        {
            TftpOpcode.ReadRequest => TftpRequest.Parse(TftpOpcode.ReadRequest, body, limits, out packet),
            TftpOpcode.WriteRequest => TftpRequest.Parse(TftpOpcode.WriteRequest, body, limits, out packet),
            TftpOpcode.Data => TftpData.Parse(body, out packet),
            TftpOpcode.Acknowledgment => TftpAck.Parse(body, out packet),
            TftpOpcode.Error => TftpError.Parse(body, out packet),
            TftpOpcode.OptionAcknowledgment => TftpOptionAck.Parse(body, limits, out packet),
            _ => TftpParseError.UnknownOpcode,
        };
        if (error != TftpParseError.None)
        {
            packet = null;
            return false;
        }

        return packet is not null;
    }

    /// <summary>Reads a NUL-terminated string and moves <paramref name="rest"/> past its NUL.</summary>
    private protected static bool TryReadString(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> value)
    {
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            value = default;
            return false;
        }

        value = rest[..end];
        rest = rest[(end + 1)..];
        return true;
    }

    /// <summary>Reads option pairs up to the end (trailing NUL padding is tolerated).</summary>
    private protected static TftpParseError ParseOptions(ReadOnlySpan<byte> rest, TftpLimits limits, out List<TftpOption> options)
    {
        options = [];
        while (!rest.IsEmpty)
        {
            if (rest.IndexOfAnyExcept((byte)0) < 0)
            {
                break; // only NUL padding left
            }

            if (!TryReadString(ref rest, out var name))
            {
                return TftpParseError.UnterminatedString;
            }

            if (name.IsEmpty || rest.IsEmpty)
            {
                return TftpParseError.MalformedOption;
            }

            if (!TryReadString(ref rest, out var value))
            {
                return TftpParseError.UnterminatedString;
            }

            if (name.Length > limits.MaxOptionLength || value.Length > limits.MaxOptionLength)
            {
                return TftpParseError.OptionTooLong;
            }

            if (options.Count >= limits.MaxOptions)
            {
                return TftpParseError.TooManyOptions;
            }

            var option = new TftpOption(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
            foreach (var seen in options)
            {
                if (string.Equals(seen.Name, option.Name, StringComparison.OrdinalIgnoreCase))
                {
                    return TftpParseError.DuplicateOption;
                }
            }

            options.Add(option);
        }

        return TftpParseError.None;
    }

    private protected static int OptionsLength(IReadOnlyList<TftpOption> options)
    {
        var length = 0;
        foreach (var o in options)
        {
            length += o.Name.Length + 1 + o.Value.Length + 1; // Latin-1: one byte per char
        }

        return length;
    }

    private protected static Span<byte> WriteOptions(Span<byte> body, IReadOnlyList<TftpOption> options)
    {
        foreach (var o in options)
        {
            body = WriteLatin1(body, o.Name);
            body = WriteLatin1(body, o.Value);
        }

        return body;
    }

    private protected static Span<byte> WriteLatin1(Span<byte> destination, string value)
    {
        var n = Encoding.Latin1.GetBytes(value, destination);
        destination[n] = 0;
        return destination[(n + 1)..];
    }

    private protected static void ValidateOptions(IReadOnlyList<TftpOption> options, string paramName)
    {
        foreach (var o in options)
        {
            if (string.IsNullOrEmpty(o.Name) || !IsLatin1WithoutNul(o.Name) || o.Value is null || !IsLatin1WithoutNul(o.Value))
            {
                throw new ArgumentException("Option names must be non-empty; names and values must be Latin-1 without NUL.", paramName);
            }
        }
    }

    private protected static bool IsLatin1WithoutNul(string value)
    {
        foreach (var c in value)
        {
            if (c is '\0' or > '\u00FF')
            {
                return false;
            }
        }

        return true;
    }
}
