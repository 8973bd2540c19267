using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Transfers;

/// <summary>Why a request is answered with an error instead of a transfer.</summary>
internal enum RequestRefusal
{
    None,

    /// <summary>WRQ: the server is read-only.</summary>
    WriteRequest,

    /// <summary>netascii or mail mode: only octet is served.</summary>
    UnsupportedMode,

    /// <summary>An RRQ or WRQ the codec rejected.</summary>
    Malformed,
}

/// <summary>
/// The decisions taken on a request before any file is touched, as data: which requests are refused
/// and with which ERROR packet. Messages are fixed text (they never echo the request).
/// </summary>
internal static class RequestScreening
{
    public static RequestRefusal Screen(TftpRequest request) => request switch
    {
        { Opcode: TftpOpcode.WriteRequest } => RequestRefusal.WriteRequest,
        { Mode: not TftpTransferMode.Octet } => RequestRefusal.UnsupportedMode,
        _ => RequestRefusal.None,
    };

    /// <summary>True when a datagram the codec rejected was meant as a request (RRQ or WRQ opcode), so it deserves an ERROR answer; other junk is dropped silently.</summary>
    public static bool IsRequestOpcode(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= 2 && datagram[0] == 0 && datagram[1] is (byte)TftpOpcode.ReadRequest or (byte)TftpOpcode.WriteRequest;

    public static TftpError? Reply(RequestRefusal refusal) => refusal switch
    {
        RequestRefusal.WriteRequest => new TftpError(TftpErrorCode.AccessViolation, "Read-only server: write requests are refused"),
        RequestRefusal.UnsupportedMode => new TftpError(TftpErrorCode.IllegalOperation, "Only octet mode is served"),
        RequestRefusal.Malformed => new TftpError(TftpErrorCode.IllegalOperation, "Malformed request"),
        _ => null,
    };

    /// <summary>The ERROR for a request the codec rejected: a name over the limit reads as file not found, anything else as illegal operation.</summary>
    public static TftpError ReplyToMalformed(TftpParseError error) => error switch
    {
        TftpParseError.FileNameTooLong => new TftpError(TftpErrorCode.FileNotFound, "File not found"),
        _ => Reply(RequestRefusal.Malformed)!,
    };

    public static TftpError FileNotFound { get; } = new(TftpErrorCode.FileNotFound, "File not found");

    public static TftpError AccessViolation { get; } = new(TftpErrorCode.AccessViolation, "Access violation");

    public static TftpError FileTooLarge { get; } = new(TftpErrorCode.NotDefined, "File too large for this server");

    public static TftpError ServerError { get; } = new(TftpErrorCode.NotDefined, "Server error");

    public static TftpError ShuttingDown { get; } = new(TftpErrorCode.NotDefined, "Server shutting down");
}
