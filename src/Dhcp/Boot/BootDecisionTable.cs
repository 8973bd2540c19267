using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Boot;

/// <summary>Who is asking, as told by options 60 and 77/175.</summary>
public enum BootClientKind
{
    /// <summary>Neither PXE, HTTP boot nor iPXE.</summary>
    Other = 0,

    /// <summary>Option 60 starts with <c>PXEClient</c> (PXE 2.1).</summary>
    Pxe,

    /// <summary>Option 60 starts with <c>HTTPClient</c> (UEFI 2.5 HTTP boot).</summary>
    Http,

    /// <summary>User class <c>iPXE</c> (option 77) or iPXE encapsulated options (175) present.</summary>
    Ipxe,
}

/// <summary>What the decision looks at, taken from a request's options 93, 60, 77 and 175.</summary>
/// <param name="Architecture">The first architecture of option 93, or null when absent.</param>
/// <param name="VendorClass">Option 60.</param>
/// <param name="UserClasses">Option 77, either format.</param>
/// <param name="HasIpxeEncapsulatedOptions">Option 175 present.</param>
public sealed record BootClientFacts(ClientArchitecture? Architecture, string? VendorClass, IReadOnlyList<string>? UserClasses, bool HasIpxeEncapsulatedOptions)
{
    public static BootClientFacts FromOptions(DhcpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var architectures = options.ClientArchitectures;
        return new BootClientFacts(
            architectures is [var first, ..] ? first : null,
            options.VendorClassIdentifier,
            options.UserClasses,
            options.Contains(DhcpOptionCode.IpxeEncapsulated));
    }
}

/// <summary>One row: a client kind and architecture (null = any) and what it gets.</summary>
public sealed record BootDecisionRule(BootClientKind Client, ClientArchitecture? Architecture, BootDecision Decision);

/// <summary>
/// The boot paths of DESIGN.md as data (<see cref="Rules"/>) and a lookup: the first rule whose
/// client kind and architecture match wins; no match is <see cref="BootDecision.None"/>.
/// </summary>
/// <remarks>
/// iPXE is recognised before anything else (its option 60 also says <c>PXEClient</c>). A PXE
/// client without option 93 is taken as legacy BIOS (arch 0): PXE ROMs that predate option 93 are
/// all BIOS; a missing 93 with an <c>Arch:NNNNN</c> field in option 60 uses that field instead.
/// </remarks>
public sealed class BootDecisionTable
{
    public const string IpxeUserClass = "iPXE";
    public const string PxeClientPrefix = "PXEClient";
    public const string HttpClientPrefix = "HTTPClient";

    public BootDecisionTable(BootDecisionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        BootDecision Tftp(string file) => new(BootKind.TftpNbp, file, EchoHttpClientVendorClass: false, SendIpxeNoPxeDhcp: false);
        BootDecision Http(string file) => new(BootKind.HttpNbp, file, EchoHttpClientVendorClass: true, SendIpxeNoPxeDhcp: false);
        Rules =
        [
            new(BootClientKind.Ipxe, null, new BootDecision(BootKind.IpxeScript, options.IpxeScriptFile, EchoHttpClientVendorClass: false, SendIpxeNoPxeDhcp: true)),
            new(BootClientKind.Http, ClientArchitecture.EfiX64Http, Http(options.UefiX64HttpFile)),
            new(BootClientKind.Http, ClientArchitecture.EfiArm64Http, Http(options.Arm64HttpFile)),
            new(BootClientKind.Pxe, ClientArchitecture.X86Bios, Tftp(options.BiosTftpFile)),
            new(BootClientKind.Pxe, ClientArchitecture.EfiX64, Tftp(options.UefiX64TftpFile)),
            new(BootClientKind.Pxe, ClientArchitecture.EfiByteCode, Tftp(options.UefiX64TftpFile)),
            new(BootClientKind.Pxe, ClientArchitecture.EfiArm64, Tftp(options.Arm64TftpFile)),
        ];
    }

    public IReadOnlyList<BootDecisionRule> Rules { get; }

    public BootDecision Decide(DhcpOptions requestOptions) => Decide(BootClientFacts.FromOptions(requestOptions));

    public BootDecision Decide(BootClientFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var client = Classify(facts);
        if (client == BootClientKind.Other)
        {
            return BootDecision.None;
        }

        var architecture = facts.Architecture
            ?? ParseVendorClassArchitecture(facts.VendorClass)
            ?? (client == BootClientKind.Pxe ? ClientArchitecture.X86Bios : null);
        foreach (var rule in Rules)
        {
            if (rule.Client == client && (rule.Architecture is null || rule.Architecture == architecture))
            {
                return rule.Decision;
            }
        }

        return BootDecision.None;
    }

    public static BootClientKind Classify(BootClientFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.HasIpxeEncapsulatedOptions)
        {
            return BootClientKind.Ipxe;
        }

        foreach (var userClass in facts.UserClasses ?? [])
        {
            if (string.Equals(userClass, IpxeUserClass, StringComparison.Ordinal))
            {
                return BootClientKind.Ipxe;
            }
        }

        if (facts.VendorClass is { } vendorClass)
        {
            if (vendorClass.StartsWith(PxeClientPrefix, StringComparison.Ordinal))
            {
                return BootClientKind.Pxe;
            }

            if (vendorClass.StartsWith(HttpClientPrefix, StringComparison.Ordinal))
            {
                return BootClientKind.Http;
            }
        }

        return BootClientKind.Other;
    }

    /// <summary>Reads <c>Arch:NNNNN</c> from <c>PXEClient:Arch:00000:UNDI:002001</c> (PXE 2.1 §2.2.4).</summary>
    private static ClientArchitecture? ParseVendorClassArchitecture(string? vendorClass)
    {
        const string marker = ":Arch:";
        if (vendorClass is null)
        {
            return null;
        }

        var index = vendorClass.IndexOf(marker, StringComparison.Ordinal);
        if (index < 0 || vendorClass.Length < index + marker.Length + 5)
        {
            return null;
        }

        return ushort.TryParse(vendorClass.AsSpan(index + marker.Length, 5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? (ClientArchitecture)value
            : null;
    }
}
