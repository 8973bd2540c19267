using System.Text.RegularExpressions;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// UEFI HTTP boot: OVMF's own HTTP boot client (NIC ROM disabled, PXE off) asks with option 60
/// <c>HTTPClient:Arch:00016</c>, gets the URL of ipxe.efi (and 60 <c>HTTPClient</c> echoed) from our DHCP, asks our
/// HTTP server for its size with HEAD, downloads it with GET, and the iPXE that starts gets its script, the
/// discovery image, and registers the machine.
/// </summary>
public sealed class UefiHttpBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task UnknownVm_UefiHttpBoot_LoadsIpxeEfiOverHttp_IsDiscovered()
    {
        var console = await new NetworkBootTests(output).BootAndDiscover(QemuVm.Firmware.UefiHttp);

        Assert.Contains(">>Start HTTP Boot over IPv4", console, StringComparison.Ordinal);
        Assert.Matches(@"URI: http://[0-9.]+:8080/boot/ipxe\.efi", console); // the URL our DHCP handed out
        Assert.Contains("Downloading...100%", console, StringComparison.Ordinal);
        Assert.DoesNotContain("PXEv4", console, StringComparison.Ordinal); // not OVMF's PXE (TFTP) path
        Assert.Contains("NekkoMetal: unknown machine", console, StringComparison.Ordinal); // our script ran in that iPXE

        // One lease for the machine: OVMF (no option 61), the iPXE it loads and the discovery image's udhcpc (both
        // option 61 = 01 + MAC) are one client, so all three get the same address.
        var firmwareIp = Regex.Match(console, @"Station IP address is ([0-9.]+)").Groups[1].Value;
        var ipxeIp = Regex.Match(console, @"net0: ([0-9.]+)/").Groups[1].Value;
        var linuxIp = Regex.Match(console, @"lease of ([0-9.]+) obtained").Groups[1].Value;
        Assert.NotEmpty(firmwareIp);
        Assert.Equal(firmwareIp, ipxeIp);
        Assert.Equal(firmwareIp, linuxIp);
    }

    /// <summary>OVMF's HttpBootDxe sends HEAD for the file size before the GET; a 405 there ends the boot.</summary>
    [Fact]
    public async Task BootBinary_AnswersHead_WithItsSize()
    {
        await using var lab = await Lab.CreateAsync();
        await using var server = await BootServerInLab.StartAsync(lab, await DiscoveryImage.GetAsync());

        var headers = await lab.Exec("curl", "-sS", "--fail", "-I", server.Url + "/boot/ipxe.efi");

        Assert.Matches(@"(?im)^HTTP/1\.1 200", headers);
        var length = new FileInfo(Path.Combine(server.DataDir, "tftp", "ipxe.efi")).Length;
        Assert.Matches($@"(?im)^content-length: {length}\r?$", headers);
    }
}
