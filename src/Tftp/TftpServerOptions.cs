using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp;

/// <summary>Settings of the TFTP server (configuration keys in camelCase: <c>address</c>, <c>port</c>, <c>root</c>, <c>limits:*</c>).</summary>
public sealed class TftpServerOptions
{
    /// <summary>Local address to listen on; 0.0.0.0 = every IPv4 interface, :: = IPv6 and IPv4. Replies leave from the address each request arrived on.</summary>
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>UDP port of the listener (RFC 1350: 69). 0 = any free port (tests).</summary>
    public int Port { get; set; } = 69;

    /// <summary>Directory served (absolute). Default: Debian's ipxe package (<c>ipxe.efi</c>, <c>undionly.kpxe</c>, <c>ipxe.pxe</c>).</summary>
    public string Root { get; set; } = "/usr/lib/ipxe";

    public TftpLimits Limits { get; set; } = new();
}
