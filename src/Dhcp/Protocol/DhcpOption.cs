namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// One option as carried by a message: its code and its whole value (after RFC 3396
/// concatenation, so it may be longer than 255 bytes). Equality compares the value bytes.
/// </summary>
public readonly struct DhcpOption : IEquatable<DhcpOption>
{
    public DhcpOption(DhcpOptionCode code, ReadOnlyMemory<byte> value)
    {
        Code = code;
        Value = value;
    }

    public DhcpOptionCode Code { get; }

    public ReadOnlyMemory<byte> Value { get; }

    public bool Equals(DhcpOption other) => Code == other.Code && Value.Span.SequenceEqual(other.Value.Span);

    public override bool Equals(object? obj) => obj is DhcpOption other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Code, Value.Length);

    public override string ToString() => $"{(byte)Code} ({Value.Length} bytes)";

    public static bool operator ==(DhcpOption left, DhcpOption right) => left.Equals(right);

    public static bool operator !=(DhcpOption left, DhcpOption right) => !left.Equals(right);
}

/// <summary>One sub-option inside an encapsulating option (43, 82, 175). Equality compares the value bytes.</summary>
public readonly struct DhcpSubOption : IEquatable<DhcpSubOption>
{
    public DhcpSubOption(byte code, ReadOnlyMemory<byte> value)
    {
        Code = code;
        Value = value;
    }

    public byte Code { get; }

    public ReadOnlyMemory<byte> Value { get; }

    public bool Equals(DhcpSubOption other) => Code == other.Code && Value.Span.SequenceEqual(other.Value.Span);

    public override bool Equals(object? obj) => obj is DhcpSubOption other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Code, Value.Length);

    public override string ToString() => $"{Code} ({Value.Length} bytes)";

    public static bool operator ==(DhcpSubOption left, DhcpSubOption right) => left.Equals(right);

    public static bool operator !=(DhcpSubOption left, DhcpSubOption right) => !left.Equals(right);
}
