namespace NekkoMetal.Dhcp.Boot;

/// <summary>
/// File names served per boot path. Defaults are the names in Debian's <c>ipxe</c> package (arm64
/// iPXE is not packaged there: the user supplies it under the configured name).
/// </summary>
public sealed record BootDecisionOptions
{
    /// <summary>Legacy BIOS PXE (arch 0), over TFTP.</summary>
    public string BiosTftpFile { get; init; } = "undionly.kpxe";

    /// <summary>x64 UEFI PXE (arch 7 or 9), over TFTP.</summary>
    public string UefiX64TftpFile { get; init; } = "ipxe.efi";

    /// <summary>x64 UEFI HTTP boot (arch 16): the asset behind the HTTP URL.</summary>
    public string UefiX64HttpFile { get; init; } = "ipxe.efi";

    /// <summary>arm64 UEFI PXE (arch 11), over TFTP.</summary>
    public string Arm64TftpFile { get; init; } = "ipxe-arm64.efi";

    /// <summary>arm64 UEFI HTTP boot (arch 19): the asset behind the HTTP URL.</summary>
    public string Arm64HttpFile { get; init; } = "ipxe-arm64.efi";

    /// <summary>
    /// The first iPXE script, served over HTTP at <c>/boot/{name}</c>: a static script that chains to
    /// the per-machine script (<c>GET /boot/ipxe?serial=…</c>).
    /// </summary>
    public string IpxeScriptFile { get; init; } = "boot.ipxe";
}
