namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// Option 93, client system architecture type: RFC 4578 §2.1 and the IANA "Processor Architecture
/// Types" registry (which supersedes the RFC's list). Values not named here are still carried.
/// </summary>
public enum ClientArchitecture : ushort
{
    /// <summary>Intel x86 PC, legacy BIOS PXE.</summary>
    X86Bios = 0,

    /// <summary>NEC/PC98 (deprecated).</summary>
    NecPc98 = 1,

    /// <summary>EFI Itanium.</summary>
    EfiItanium = 2,

    /// <summary>DEC Alpha (deprecated).</summary>
    DecAlpha = 3,

    /// <summary>Arc x86 (deprecated).</summary>
    ArcX86 = 4,

    /// <summary>Intel Lean Client (deprecated).</summary>
    IntelLeanClient = 5,

    /// <summary>x86 (32-bit) UEFI.</summary>
    EfiIa32 = 6,

    /// <summary>
    /// x64 UEFI. RFC 4578 printed "EFI BC" here and "EFI x86-64" at 9 (RFC errata 4624 swaps
    /// them); firmware in the field (OVMF, iPXE, most PCs) sends 7 for x64, as the IANA registry says.
    /// </summary>
    EfiX64 = 7,

    /// <summary>EFI Xscale (deprecated).</summary>
    EfiXscale = 8,

    /// <summary>
    /// EFI byte code in the IANA registry, "EFI x86-64" in RFC 4578's table; some x64 firmware
    /// sends it, so NekkoMetal treats it as x64 UEFI.
    /// </summary>
    EfiByteCode = 9,

    /// <summary>ARM 32-bit UEFI.</summary>
    EfiArm32 = 10,

    /// <summary>ARM 64-bit UEFI.</summary>
    EfiArm64 = 11,

    /// <summary>x86 UEFI HTTP boot.</summary>
    EfiIa32Http = 15,

    /// <summary>x64 UEFI HTTP boot.</summary>
    EfiX64Http = 16,

    /// <summary>EBC HTTP boot.</summary>
    EfiByteCodeHttp = 17,

    /// <summary>ARM 32-bit UEFI HTTP boot.</summary>
    EfiArm32Http = 18,

    /// <summary>ARM 64-bit UEFI HTTP boot.</summary>
    EfiArm64Http = 19,

    /// <summary>PC/AT BIOS HTTP boot.</summary>
    BiosHttp = 20,

    /// <summary>RISC-V 64-bit UEFI.</summary>
    EfiRiscV64 = 27,

    /// <summary>RISC-V 64-bit UEFI HTTP boot.</summary>
    EfiRiscV64Http = 28,
}
