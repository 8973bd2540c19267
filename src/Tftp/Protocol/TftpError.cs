using System.Buffers.Binary;
using System.Text;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// ERROR (RFC 1350 §5): opcode, error code, message, NUL. The message is UTF-8 (ASCII from this server);
/// decoding is lenient: invalid bytes become U+FFFD and a missing final NUL is tolerated.
/// </summary>
public sealed class TftpError : TftpPacket
{
    public TftpError(TftpErrorCode code, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An error message cannot contain NUL.", nameof(message));
        }

        Code = code;
        Message = message;
    }

    public override TftpOpcode Opcode => TftpOpcode.Error;

    /// <summary>The code as sent; peers may send values outside the enum.</summary>
    public TftpErrorCode Code { get; }

    public string Message { get; }

    public override int GetEncodedLength() => 4 + Encoding.UTF8.GetByteCount(Message) + 1;

    private protected override void WriteBody(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)Code);
        var n = Encoding.UTF8.GetBytes(Message, body[2..]);
        body[2 + n] = 0;
    }

    internal static TftpParseError Parse(ReadOnlySpan<byte> body, out TftpPacket? packet)
    {
        packet = null;
        if (body.Length < 2)
        {
            return TftpParseError.TooShort;
        }

        var code = (TftpErrorCode)BinaryPrimitives.ReadUInt16BigEndian(body);
        var text = body[2..];
        var end = text.IndexOf((byte)0);
        packet = new TftpError(code, Encoding.UTF8.GetString(end < 0 ? text : text[..end]));
        return TftpParseError.None;
    }
}
