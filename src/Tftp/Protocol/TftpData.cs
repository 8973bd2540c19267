using System.Buffers.Binary;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>DATA (RFC 1350 §5): opcode, 2-byte block number, 0..blksize bytes. A block shorter than blksize ends the transfer.</summary>
public sealed class TftpData : TftpPacket
{
    /// <summary>Opcode and block number.</summary>
    public const int HeaderLength = 4;

    public TftpData(ushort block, ReadOnlyMemory<byte> payload)
    {
        Block = block;
        Payload = payload;
    }

    public override TftpOpcode Opcode => TftpOpcode.Data;

    /// <summary>Block number; numbering starts at 1 and wraps from 65535 to 0 on long transfers.</summary>
    public ushort Block { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public override int GetEncodedLength() => HeaderLength + Payload.Length;

    /// <summary>Writes the 4-byte header in front of a payload the caller writes itself (the server reads file blocks straight into its send buffer).</summary>
    public static void WriteHeader(Span<byte> destination, ushort block)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Data);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], block);
    }

    private protected override void WriteBody(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt16BigEndian(body, Block);
        Payload.Span.CopyTo(body[2..]);
    }

    internal static TftpParseError Parse(ReadOnlySpan<byte> body, out TftpPacket? packet)
    {
        packet = null;
        if (body.Length < 2)
        {
            return TftpParseError.TooShort;
        }

        packet = new TftpData(BinaryPrimitives.ReadUInt16BigEndian(body), body[2..].ToArray());
        return TftpParseError.None;
    }
}
