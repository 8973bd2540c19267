using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>
/// ChainIpxe: an iPXE NIC ROM first gets our iPXE binary over TFTP (as a plain PXE ROM would), and the iPXE that
/// starts — byte-identical DHCP, told apart only by the per-MAC memory — gets its script; after the window the
/// machine is chained again.
/// </summary>
public sealed class ChainIpxeTests
{
    [Theory]
    [InlineData("ipxe-bios-discover.bin", "undionly.kpxe")]
    [InlineData("ipxe-efi-discover.bin", "ipxe.efi")]
    public async Task IpxeRom_IsChainedOnce_ThenGetsItsScript(string golden, string nbp)
    {
        var h = new HandlerHarness(new DhcpServerOptions { LeaseTime = TimeSpan.FromSeconds(600), ChainIpxe = true });
        var discover = HandlerHarness.Golden(golden);

        var first = await h.LeaseAsync(discover); // DISCOVER + REQUEST: the ACK carries the NBP
        Assert.Equal(nbp, first.Message.BootFileName);
        Assert.Equal(nbp, first.Message.Options.BootFileName);

        var second = await h.SendAsync(HandlerHarness.Golden(golden));
        Assert.EndsWith("/boot/boot.ipxe", second!.Message.Options.BootFileName, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromMinutes(6));
        var later = await h.SendAsync(HandlerHarness.Golden(golden));
        Assert.Equal(nbp, later!.Message.Options.BootFileName);
    }

    [Fact]
    public async Task WithoutChainIpxe_IpxeGetsItsScriptAtOnce()
    {
        var h = new HandlerHarness();
        var reply = await h.SendAsync(HandlerHarness.Golden("ipxe-bios-discover.bin"));
        Assert.EndsWith("/boot/boot.ipxe", reply!.Message.Options.BootFileName, StringComparison.Ordinal);
    }
}
