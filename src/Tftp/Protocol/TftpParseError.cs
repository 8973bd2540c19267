namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// Why <see cref="TftpPacket.TryParse"/> rejected a datagram. The reason never carries bytes of the
/// datagram: it is safe to log as is, and <see cref="TftpParseErrorExtensions.Describe"/> is fixed text.
/// </summary>
public enum TftpParseError
{
    /// <summary>The datagram parsed.</summary>
    None = 0,

    /// <summary>Shorter than the smallest packet of its opcode (2 bytes for any packet, 4 for DATA, ACK and ERROR).</summary>
    TooShort,

    /// <summary>Longer than a DATA packet of <see cref="TftpLimits.MaxBlockSize"/> bytes (4 + the block).</summary>
    TooLong,

    /// <summary>The opcode is not 1 to 6 (RFC 1350 §5, RFC 2347).</summary>
    UnknownOpcode,

    /// <summary>A string field (file name, mode, option name or value) has no terminating NUL byte.</summary>
    UnterminatedString,

    /// <summary>The file name of a request is empty.</summary>
    EmptyFileName,

    /// <summary>The file name is longer than <see cref="TftpLimits.MaxFileNameLength"/> bytes.</summary>
    FileNameTooLong,

    /// <summary>The file name is not valid UTF-8 (ASCII is a subset).</summary>
    FileNameNotUtf8,

    /// <summary>The mode is none of netascii, octet or mail (RFC 1350 §5).</summary>
    UnknownMode,

    /// <summary>An option name is empty, or its value is missing (RFC 2347: options come in name/value pairs).</summary>
    MalformedOption,

    /// <summary>An option name or value is longer than <see cref="TftpLimits.MaxOptionLength"/> bytes.</summary>
    OptionTooLong,

    /// <summary>More options than <see cref="TftpLimits.MaxOptions"/> (unknown options count too).</summary>
    TooManyOptions,

    /// <summary>The same option name appears twice (compared case-insensitively, RFC 2347).</summary>
    DuplicateOption,

    /// <summary>An OACK carries no option (RFC 2347: an OACK acknowledges at least one).</summary>
    EmptyOptionAck,
}

public static class TftpParseErrorExtensions
{
    /// <summary>A fixed English sentence for the reason; it never contains datagram bytes.</summary>
    public static string Describe(this TftpParseError error) => error switch
    {
        TftpParseError.None => "The datagram is a well-formed TFTP packet.",
        TftpParseError.TooShort => "The datagram is shorter than the smallest packet of its opcode.",
        TftpParseError.TooLong => "The datagram is longer than a data packet of the largest allowed block size.",
        TftpParseError.UnknownOpcode => "The opcode is not a TFTP opcode.",
        TftpParseError.UnterminatedString => "A string field has no terminating NUL byte.",
        TftpParseError.EmptyFileName => "The request has an empty file name.",
        TftpParseError.FileNameTooLong => "The file name is longer than the configured maximum.",
        TftpParseError.FileNameNotUtf8 => "The file name is not valid UTF-8.",
        TftpParseError.UnknownMode => "The transfer mode is not netascii, octet or mail.",
        TftpParseError.MalformedOption => "An option has an empty name or no value.",
        TftpParseError.OptionTooLong => "An option name or value is longer than the configured maximum.",
        TftpParseError.TooManyOptions => "The request carries more options than the configured maximum.",
        TftpParseError.DuplicateOption => "An option appears more than once.",
        TftpParseError.EmptyOptionAck => "The option acknowledgment carries no option.",
        _ => "The datagram was rejected.",
    };
}
