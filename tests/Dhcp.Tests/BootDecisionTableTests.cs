using NekkoMetal.Dhcp.Boot;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>One test per row of the boot decision table, plus what falls through.</summary>
public class BootDecisionTableTests
{
    private static readonly BootDecisionTable Table = new(new BootDecisionOptions());

    private static BootDecision Decide(ClientArchitecture? arch, string? vendorClass, string[]? userClasses = null, bool ipxeOptions = false) =>
        Table.Decide(new BootClientFacts(arch, vendorClass, userClasses, ipxeOptions));

    [Fact]
    public void Legacy_bios_pxe_gets_undionly_over_tftp() =>
        Assert.Equal(
            new BootDecision(BootKind.TftpNbp, "undionly.kpxe", false, false),
            Decide(ClientArchitecture.X86Bios, "PXEClient:Arch:00000:UNDI:002001"));

    [Theory]
    [InlineData(ClientArchitecture.EfiX64, "PXEClient:Arch:00007:UNDI:003000")]
    [InlineData(ClientArchitecture.EfiByteCode, "PXEClient:Arch:00009:UNDI:003016")]
    public void Uefi_x64_pxe_gets_ipxe_efi_over_tftp(ClientArchitecture arch, string vendorClass) =>
        Assert.Equal(new BootDecision(BootKind.TftpNbp, "ipxe.efi", false, false), Decide(arch, vendorClass));

    [Fact]
    public void Uefi_http_boot_gets_ipxe_efi_url_and_httpclient_echo() =>
        Assert.Equal(
            new BootDecision(BootKind.HttpNbp, "ipxe.efi", EchoHttpClientVendorClass: true, SendIpxeNoPxeDhcp: false),
            Decide(ClientArchitecture.EfiX64Http, "HTTPClient:Arch:00016:UNDI:003000"));

    [Theory]
    [InlineData(ClientArchitecture.X86Bios, "PXEClient:Arch:00000:UNDI:002001")]
    [InlineData(ClientArchitecture.EfiX64, "PXEClient:Arch:00007:UNDI:003010")]
    [InlineData(ClientArchitecture.EfiArm64, "PXEClient:Arch:00011:UNDI:003000")]
    [InlineData(null, null)]
    public void Ipxe_user_class_gets_its_script_with_no_pxedhcp(ClientArchitecture? arch, string? vendorClass) =>
        Assert.Equal(
            new BootDecision(BootKind.IpxeScript, "boot.ipxe", EchoHttpClientVendorClass: false, SendIpxeNoPxeDhcp: true),
            Decide(arch, vendorClass, ["iPXE"]));

    [Fact]
    public void Ipxe_encapsulated_options_alone_also_mean_ipxe() =>
        Assert.Equal(BootKind.IpxeScript, Decide(ClientArchitecture.X86Bios, "PXEClient:Arch:00000:UNDI:002001", ipxeOptions: true).Kind);

    [Fact]
    public void Arm64_uefi_pxe_gets_arm64_ipxe_over_tftp() =>
        Assert.Equal(new BootDecision(BootKind.TftpNbp, "ipxe-arm64.efi", false, false), Decide(ClientArchitecture.EfiArm64, "PXEClient:Arch:00011:UNDI:003000"));

    [Fact]
    public void Arm64_http_boot_gets_arm64_ipxe_url() =>
        Assert.Equal(new BootDecision(BootKind.HttpNbp, "ipxe-arm64.efi", true, false), Decide(ClientArchitecture.EfiArm64Http, "HTTPClient:Arch:00019:UNDI:003000"));

    [Theory]
    [InlineData(ClientArchitecture.EfiItanium, "PXEClient:Arch:00002:UNDI:003000")]
    [InlineData(ClientArchitecture.EfiIa32, "PXEClient:Arch:00006:UNDI:003000")]
    [InlineData(ClientArchitecture.EfiArm32, "PXEClient:Arch:00010:UNDI:003000")]
    [InlineData(ClientArchitecture.EfiRiscV64, "PXEClient:Arch:00027:UNDI:003000")]
    [InlineData((ClientArchitecture)0x1234, "PXEClient")]
    [InlineData(ClientArchitecture.EfiIa32Http, "HTTPClient:Arch:00015:UNDI:003000")]
    [InlineData(ClientArchitecture.X86Bios, "HTTPClient")] // HTTP boot with a PXE architecture
    [InlineData(ClientArchitecture.EfiX64Http, "PXEClient")] // PXE with an HTTP architecture
    public void Unknown_architectures_get_nothing(ClientArchitecture arch, string vendorClass) =>
        Assert.Equal(BootDecision.None, Decide(arch, vendorClass));

    [Theory]
    [InlineData(null)]
    [InlineData("udhcp 1.35.0")]
    [InlineData("MSFT 5.0")]
    [InlineData("pxeclient")] // prefixes are case-sensitive, as firmware sends them
    public void Not_a_network_boot_client_gets_nothing(string? vendorClass) =>
        Assert.Equal(BootDecision.None, Decide(null, vendorClass));

    [Theory]
    [InlineData("PXEClient:Arch:00007:UNDI:003000", "ipxe.efi")] // arch from option 60
    [InlineData("PXEClient:Arch:00000:UNDI:002001", "undionly.kpxe")]
    [InlineData("PXEClient", "undionly.kpxe")] // pre-option-93 ROMs are BIOS
    public void Pxe_client_without_option_93(string vendorClass, string file) =>
        Assert.Equal(file, Decide(null, vendorClass).Resource);

    [Fact]
    public void File_names_come_from_options()
    {
        var table = new BootDecisionTable(new BootDecisionOptions
        {
            BiosTftpFile = "ipxe.pxe",
            UefiX64TftpFile = "snponly.efi",
            UefiX64HttpFile = "x64/ipxe.efi",
            Arm64TftpFile = "arm64/snp.efi",
            Arm64HttpFile = "arm64/ipxe.efi",
            IpxeScriptFile = "custom.ipxe",
        });

        Assert.Equal("ipxe.pxe", table.Decide(new BootClientFacts(ClientArchitecture.X86Bios, "PXEClient", null, false)).Resource);
        Assert.Equal("snponly.efi", table.Decide(new BootClientFacts(ClientArchitecture.EfiX64, "PXEClient", null, false)).Resource);
        Assert.Equal("x64/ipxe.efi", table.Decide(new BootClientFacts(ClientArchitecture.EfiX64Http, "HTTPClient", null, false)).Resource);
        Assert.Equal("arm64/snp.efi", table.Decide(new BootClientFacts(ClientArchitecture.EfiArm64, "PXEClient", null, false)).Resource);
        Assert.Equal("arm64/ipxe.efi", table.Decide(new BootClientFacts(ClientArchitecture.EfiArm64Http, "HTTPClient", null, false)).Resource);
        Assert.Equal("custom.ipxe", table.Decide(new BootClientFacts(null, null, ["iPXE"], false)).Resource);
    }

    [Theory]
    [InlineData("ipxe-bios-discover.bin", BootKind.IpxeScript, "boot.ipxe")]
    [InlineData("ipxe-efi-discover.bin", BootKind.IpxeScript, "boot.ipxe")]
    [InlineData("ovmf-pxe-discover.bin", BootKind.TftpNbp, "ipxe.efi")]
    [InlineData("ovmf-http-discover.bin", BootKind.HttpNbp, "ipxe.efi")]
    [InlineData("udhcpc-pxe-options-discover.bin", BootKind.TftpNbp, "undionly.kpxe")]
    [InlineData("udhcpc-discover.bin", BootKind.None, null)]
    [InlineData("dhclient-discover.bin", BootKind.None, null)]
    public void Golden_packets_decide(string file, BootKind kind, string? resource)
    {
        var decision = Table.Decide(TestPackets.Parse(TestPackets.Golden(file)).Options);

        Assert.Equal(kind, decision.Kind);
        Assert.Equal(resource, decision.Resource);
    }
}
