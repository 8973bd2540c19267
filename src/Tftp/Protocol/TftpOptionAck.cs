namespace NekkoMetal.Tftp.Protocol;

/// <summary>OACK (RFC 2347): opcode 6 and the option name/value pairs the server accepted, with the values it chose.</summary>
public sealed class TftpOptionAck : TftpPacket
{
    public TftpOptionAck(IReadOnlyList<TftpOption> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count == 0)
        {
            throw new ArgumentException("An OACK acknowledges at least one option.", nameof(options));
        }

        ValidateOptions(options, nameof(options));
        Options = options;
    }

    public override TftpOpcode Opcode => TftpOpcode.OptionAcknowledgment;

    public IReadOnlyList<TftpOption> Options { get; }

    public override int GetEncodedLength() => 2 + OptionsLength(Options);

    private protected override void WriteBody(Span<byte> body) => WriteOptions(body, Options);

    internal static TftpParseError Parse(ReadOnlySpan<byte> body, TftpLimits limits, out TftpPacket? packet)
    {
        packet = null;
        var error = ParseOptions(body, limits, out var options);
        if (error != TftpParseError.None)
        {
            return error;
        }

        if (options.Count == 0)
        {
            return TftpParseError.EmptyOptionAck;
        }

        packet = new TftpOptionAck(options);
        return TftpParseError.None;
    }
}
