namespace NekkoMetal.Tftp.Protocol;

/// <summary>The mode string of a request (RFC 1350 §5), matched case-insensitively.</summary>
public enum TftpTransferMode
{
    /// <summary><c>netascii</c>: 8-bit ASCII with CR LF line ends (RFC 1350 Appendix). Parsed, but the server refuses it.</summary>
    NetAscii,

    /// <summary><c>octet</c>: raw 8-bit bytes. The only mode the server serves.</summary>
    Octet,

    /// <summary><c>mail</c>: obsolete (RFC 1350 §1 says it should not be implemented). Parsed, refused.</summary>
    Mail,
}
