namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// One option of a request or OACK (RFC 2347): a name and a value, each a NUL-terminated string on the
/// wire, read and written as Latin-1 so every byte round-trips. Names compare case-insensitively.
/// </summary>
public readonly record struct TftpOption(string Name, string Value);

/// <summary>The option names this server negotiates; every other option is ignored (RFC 2347).</summary>
public static class TftpOptionNames
{
    /// <summary>Block size in bytes, 8..65464 (RFC 2348).</summary>
    public const string BlockSize = "blksize";

    /// <summary>Transfer size: 0 in a read request, the file size in the OACK (RFC 2349).</summary>
    public const string TransferSize = "tsize";

    /// <summary>Retransmission timeout in seconds, 1..255 (RFC 2349).</summary>
    public const string Timeout = "timeout";

    /// <summary>Blocks sent before waiting for an ACK, 1..65535 (RFC 7440).</summary>
    public const string WindowSize = "windowsize";
}
