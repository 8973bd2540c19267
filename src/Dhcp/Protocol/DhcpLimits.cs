namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// Bounds enforced while decoding. Bound from configuration later; <see cref="Default"/> fits
/// every real client seen (the largest golden packet is about 400 bytes).
/// </summary>
public sealed record DhcpLimits
{
    /// <summary>Smallest allowed <see cref="MaxDatagramSize"/>: every DHCP host must accept 576-byte IP packets (RFC 2131 §2).</summary>
    public const int MinDatagramSizeSetting = 576;

    /// <summary>
    /// Largest allowed <see cref="MaxDatagramSize"/>. RFC 2131 lets a client announce a larger
    /// maximum with option 57, but nothing a PXE client sends comes close; 4096 bounds the work
    /// per datagram while leaving room for jumbo frames and fragmented requests.
    /// </summary>
    public const int MaxDatagramSizeCap = 4096;

    public static DhcpLimits Default { get; } = new();

    /// <summary>Longest datagram accepted (UDP payload). Default 1500: one Ethernet MTU.</summary>
    public int MaxDatagramSize
    {
        get;
        init => field = value is >= MinDatagramSizeSetting and <= MaxDatagramSizeCap
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"Must be between {MinDatagramSizeSetting} and {MaxDatagramSizeCap}.");
    } = 1500;

    /// <summary>Most option occurrences in one message, pads excluded (each piece of a split option counts).</summary>
    public int MaxOptionCount
    {
        get;
        init => field = value is >= 1 and <= 4096 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be between 1 and 4096.");
    } = 255;

    /// <summary>Most bytes of option values in one message, after RFC 3396 concatenation.</summary>
    public int MaxTotalOptionBytes
    {
        get;
        init => field = value is >= 1 and <= MaxDatagramSizeCap ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"Must be between 1 and {MaxDatagramSizeCap}.");
    } = 4096;

    /// <summary>Most sub-options decoded inside one encapsulating option (43, 82, 175).</summary>
    public int MaxSubOptionCount
    {
        get;
        init => field = value is >= 1 and <= 1024 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be between 1 and 1024.");
    } = 64;
}
