namespace NekkoMetal.Tftp.Protocol;

/// <summary>The 2-byte opcode that starts every TFTP packet, big-endian.</summary>
public enum TftpOpcode : ushort
{
    /// <summary>RRQ, read request (RFC 1350 §5).</summary>
    ReadRequest = 1,

    /// <summary>WRQ, write request (RFC 1350 §5). This server refuses them: it is read-only.</summary>
    WriteRequest = 2,

    /// <summary>DATA (RFC 1350 §5).</summary>
    Data = 3,

    /// <summary>ACK (RFC 1350 §5).</summary>
    Acknowledgment = 4,

    /// <summary>ERROR (RFC 1350 §5).</summary>
    Error = 5,

    /// <summary>OACK, option acknowledgment (RFC 2347).</summary>
    OptionAcknowledgment = 6,
}
