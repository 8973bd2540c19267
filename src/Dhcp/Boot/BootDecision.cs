namespace NekkoMetal.Dhcp.Boot;

/// <summary>What a network-boot client is served.</summary>
public enum BootKind
{
    /// <summary>Not a network-boot client we serve: in proxy mode, stay silent.</summary>
    None = 0,

    /// <summary>A network bootstrap program over TFTP: <c>file</c>/option 67 is the file name.</summary>
    TftpNbp,

    /// <summary>A network bootstrap program over HTTP (UEFI HTTP boot): option 67 is a URL to the file.</summary>
    HttpNbp,

    /// <summary>iPXE itself is asking: option 67 is the URL of its per-machine script.</summary>
    IpxeScript,
}

/// <summary>
/// The outcome of <see cref="BootDecisionTable.Decide(BootClientFacts)"/>.
/// </summary>
/// <param name="Kind">How the client boots.</param>
/// <param name="Resource">The TFTP file name (<see cref="BootKind.TftpNbp"/>), or the file name under <c>/boot/</c> that the
/// handler turns into an HTTP URL (<see cref="BootKind.HttpNbp"/>: the NBP; <see cref="BootKind.IpxeScript"/>: the first
/// iPXE script); null for <see cref="BootKind.None"/>.</param>
/// <param name="EchoHttpClientVendorClass">Put option 60 <c>HTTPClient</c> in the reply: UEFI HTTP boot ignores offers without it.</param>
/// <param name="SendIpxeNoPxeDhcp">Put option 175 sub-option 176 (no-pxedhcp) = 1 in the reply, so iPXE does not wait for proxyDHCP offers.</param>
public sealed record BootDecision(BootKind Kind, string? Resource, bool EchoHttpClientVendorClass, bool SendIpxeNoPxeDhcp)
{
    public static BootDecision None { get; } = new(BootKind.None, null, false, false);
}
