namespace NekkoMetal.Tftp.Protocol;

/// <summary>The error code of an ERROR packet (RFC 1350 §5 and Appendix; code 8 from RFC 2347).</summary>
public enum TftpErrorCode : ushort
{
    /// <summary>Not defined, see error message (if any). RFC 1350.</summary>
    NotDefined = 0,

    /// <summary>File not found. RFC 1350.</summary>
    FileNotFound = 1,

    /// <summary>Access violation. RFC 1350.</summary>
    AccessViolation = 2,

    /// <summary>Disk full or allocation exceeded. RFC 1350.</summary>
    DiskFull = 3,

    /// <summary>Illegal TFTP operation. RFC 1350.</summary>
    IllegalOperation = 4,

    /// <summary>Unknown transfer ID. RFC 1350.</summary>
    UnknownTransferId = 5,

    /// <summary>File already exists. RFC 1350.</summary>
    FileAlreadyExists = 6,

    /// <summary>No such user. RFC 1350.</summary>
    NoSuchUser = 7,

    /// <summary>Terminate the transfer: option negotiation refused (RFC 2347). Only clients send it here: the server never refuses an option, it leaves it out of the OACK.</summary>
    OptionNegotiationRefused = 8,
}
