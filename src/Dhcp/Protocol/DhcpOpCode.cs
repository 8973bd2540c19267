namespace NekkoMetal.Dhcp.Protocol;

/// <summary>The BOOTP <c>op</c> field (RFC 2131 §2, RFC 951).</summary>
public enum DhcpOpCode : byte
{
    /// <summary>A message from a client to a server.</summary>
    BootRequest = 1,

    /// <summary>A message from a server to a client.</summary>
    BootReply = 2,
}
