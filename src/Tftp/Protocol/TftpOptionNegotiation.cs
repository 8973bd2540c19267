using System.Globalization;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>What a read request's options came to: the values the transfer uses and the OACK that announces them.</summary>
public sealed record TftpNegotiatedOptions
{
    public static TftpNegotiatedOptions None { get; } = new();

    /// <summary>Bytes per DATA block: 512 unless blksize was acknowledged.</summary>
    public int BlockSize { get; init; } = TftpLimits.DefaultBlockSize;

    /// <summary>Blocks sent before waiting for an ACK: 1 (lock-step RFC 1350) unless windowsize was acknowledged.</summary>
    public int WindowSize { get; init; } = 1;

    /// <summary>The client's timeout option when acknowledged (used as is, without back-off); null = the server's own.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The file size announced when tsize was acknowledged.</summary>
    public long? TransferSize { get; init; }

    /// <summary>Options acknowledged, in request order, names in lower case; empty = no OACK, DATA block 1 answers the request.</summary>
    public IReadOnlyList<TftpOption> Acknowledged { get; init; } = [];

    /// <summary>The OACK to send first, or null when no option was acknowledged (RFC 2347).</summary>
    public TftpOptionAck? ToOptionAck() => Acknowledged.Count > 0 ? new TftpOptionAck(Acknowledged) : null;
}

/// <summary>
/// Server side of RFC 2347 option negotiation for a read request. Pure. An option is acknowledged
/// only when this server implements it and its value is a plain decimal number in range; anything
/// else (unknown names, junk values) is left out of the OACK, which tells the client it was not
/// accepted. The server never refuses a request over its options (so never sends error 8).
/// </summary>
public static class TftpOptionNegotiation
{
    /// <param name="requested">The options of the read request, in wire order.</param>
    /// <param name="fileLength">Length of the file to send, announced through tsize.</param>
    /// <param name="limits">Upper bounds for blksize and windowsize: larger requests are clamped down, as RFC 2348 and RFC 7440 allow.</param>
    public static TftpNegotiatedOptions Negotiate(IReadOnlyList<TftpOption> requested, long fileLength, TftpLimits limits)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(limits);
        var result = TftpNegotiatedOptions.None;
        var acknowledged = new List<TftpOption>(4);
        foreach (var option in requested)
        {
            var name = option.Name.ToLowerInvariant();
            if (name == TftpOptionNames.TransferSize)
            {
                // RFC 2349: a read request carries 0 and the OACK the size. Any value counts as "tell me":
                // atftp sends "tsize enable" literally. An empty file's size is not announced: curl takes
                // "tsize 0" in an OACK for an error and aborts; left out, it just reads the one empty block.
                if (fileLength > 0)
                {
                    result = result with { TransferSize = fileLength };
                    acknowledged.Add(new TftpOption(name, Format(fileLength)));
                }

                continue;
            }

            if (!TryParseNumber(option.Value, out var value))
            {
                continue;
            }

            switch (name)
            {
                case TftpOptionNames.BlockSize when value >= TftpLimits.ProtocolMinBlockSize:
                    var blockSize = (int)Math.Min(value, Math.Clamp(limits.MaxBlockSize, TftpLimits.DefaultBlockSize, TftpLimits.ProtocolMaxBlockSize));
                    result = result with { BlockSize = blockSize };
                    acknowledged.Add(new TftpOption(name, Format(blockSize)));
                    break;
                case TftpOptionNames.WindowSize when value >= 1:
                    var windowSize = (int)Math.Min(value, Math.Clamp(limits.MaxWindowSize, 1, TftpLimits.ProtocolMaxWindowSize));
                    result = result with { WindowSize = windowSize };
                    acknowledged.Add(new TftpOption(name, Format(windowSize)));
                    break;
                case TftpOptionNames.Timeout when value is >= 1 and <= 255:
                    // RFC 2349: the server must not answer a different timeout; out-of-range ones are ignored.
                    result = result with { Timeout = TimeSpan.FromSeconds(value) };
                    acknowledged.Add(new TftpOption(name, Format(value)));
                    break;
            }
        }

        return acknowledged.Count == 0 ? result : result with { Acknowledged = acknowledged };
    }

    /// <summary>Plain decimal digits only: no sign, spaces or hex, at most 18 digits.</summary>
    private static bool TryParseNumber(string text, out long value)
    {
        value = 0;
        return text.Length is >= 1 and <= 18 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
