using System.Buffers.Binary;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// ACK (RFC 1350 §5): opcode and the number of the block acknowledged (0 acknowledges an OACK, RFC 2347).
/// Bytes after the 4-byte packet are ignored, as tftpd-hpa does: nothing in them can matter.
/// </summary>
public sealed class TftpAck(ushort block) : TftpPacket
{
    public override TftpOpcode Opcode => TftpOpcode.Acknowledgment;

    public ushort Block { get; } = block;

    public override int GetEncodedLength() => 4;

    private protected override void WriteBody(Span<byte> body) => BinaryPrimitives.WriteUInt16BigEndian(body, Block);

    internal static TftpParseError Parse(ReadOnlySpan<byte> body, out TftpPacket? packet)
    {
        packet = null;
        if (body.Length < 2)
        {
            return TftpParseError.TooShort;
        }

        packet = new TftpAck(BinaryPrimitives.ReadUInt16BigEndian(body));
        return TftpParseError.None;
    }
}
