namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// Bounds enforced by the codec (names, options, packet size), by option negotiation (block and window
/// size) and by the server (transfers, retransmissions, file size). Bound from configuration
/// (<c>TftpServerOptions.Limits</c>) and checked at start by <see cref="Validate"/>; the codec and the
/// server trust a validated instance and never throw on a bad one.
/// </summary>
public sealed record TftpLimits
{
    /// <summary>The largest block size RFC 2348 allows (65535-byte IP datagram minus headers).</summary>
    public const int ProtocolMaxBlockSize = 65464;

    /// <summary>The smallest block size RFC 2348 allows.</summary>
    public const int ProtocolMinBlockSize = 8;

    /// <summary>The block size without a blksize option (RFC 1350 §2).</summary>
    public const int DefaultBlockSize = 512;

    /// <summary>The largest window size RFC 7440 allows.</summary>
    public const int ProtocolMaxWindowSize = 65535;

    public static TftpLimits Default { get; } = new();

    /// <summary>Longest file name accepted, in bytes (UTF-8). Default 255.</summary>
    public int MaxFileNameLength { get; init; } = 255;

    /// <summary>Most options in one request, unknown ones included. Default 16.</summary>
    public int MaxOptions { get; init; } = 16;

    /// <summary>Longest option name, and longest option value, in bytes. Default 64.</summary>
    public int MaxOptionLength { get; init; } = 64;

    /// <summary>Largest block size granted; larger blksize requests are clamped to it (RFC 2348 lets the server answer smaller). Default 65464.</summary>
    public int MaxBlockSize { get; init; } = ProtocolMaxBlockSize;

    /// <summary>Largest window size granted; larger windowsize requests are clamped to it (RFC 7440 lets the server answer smaller). Default 64.</summary>
    public int MaxWindowSize { get; init; } = 64;

    /// <summary>Most transfers served at once; read requests over it are dropped (the client retransmits its request). Default 64.</summary>
    public int MaxConcurrentTransfers { get; init; } = 64;

    /// <summary>Retransmissions of one unacknowledged window (or OACK) before the transfer is abandoned. Default 5.</summary>
    public int MaxRetransmissions { get; init; } = 5;

    /// <summary>
    /// Wait for an acknowledgment before the first retransmission; each further retransmission doubles
    /// it. A client's timeout option (RFC 2349, 1..255 s) replaces it, without doubling. Default 1 s.
    /// </summary>
    public TimeSpan InitialTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest file served, in bytes; larger files are refused. Default 1 GiB.</summary>
    public long MaxFileSize { get; init; } = 1L << 30;

    /// <summary>Every rule broken, one sentence each, named after the configuration keys; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Check(MaxFileNameLength is >= 1 and <= 4096, "limits:maxFileNameLength must be between 1 and 4096 bytes");
        Check(MaxOptions is >= 1 and <= 64, "limits:maxOptions must be between 1 and 64");
        Check(MaxOptionLength is >= 16 and <= 255, "limits:maxOptionLength must be between 16 and 255 bytes");
        Check(MaxBlockSize is >= DefaultBlockSize and <= ProtocolMaxBlockSize, $"limits:maxBlockSize must be between {DefaultBlockSize} and {ProtocolMaxBlockSize}");
        Check(MaxWindowSize is >= 1 and <= ProtocolMaxWindowSize, $"limits:maxWindowSize must be between 1 and {ProtocolMaxWindowSize}");
        Check(MaxConcurrentTransfers is >= 1 and <= 65536, "limits:maxConcurrentTransfers must be between 1 and 65536");
        Check(MaxRetransmissions is >= 0 and <= 20, "limits:maxRetransmissions must be between 0 and 20");
        Check(InitialTimeout >= TimeSpan.FromMilliseconds(10) && InitialTimeout <= TimeSpan.FromSeconds(255), "limits:initialTimeout must be between 00:00:00.010 and 00:04:15 (255 s)");
        Check(MaxFileSize >= 0, "limits:maxFileSize must not be negative");
        return errors;

        void Check(bool ok, string error)
        {
            if (!ok)
            {
                errors.Add(error);
            }
        }
    }
}
