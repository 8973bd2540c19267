using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Tests;

public class NicLinkCheckTests
{
    private static NicFacts Nic(string name, bool? link, int? upCount = 1, bool wireless = false, int? speed = 1000) =>
        new(name, "aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff", "perm", link, upCount, link == true ? "up" : "down", speed, "e1000e", "pci", wireless);

    [Fact]
    public void Ok_on_a_laptop_on_wifi_with_an_empty_ethernet_socket()
    {
        var result = NicLinkCheck.Evaluate(Fixtures.Facts(Fixtures.Laptop).Nics, []);

        Assert.Equal(new CheckResult("nic-link", CheckStatus.Ok, "link up on wlp3s0"), result);
    }

    [Fact]
    public void Ok_on_the_mini_pc_with_wifi_administratively_down()
    {
        var result = NicLinkCheck.Evaluate(Fixtures.Facts(Fixtures.MiniPc).Nics, []);

        Assert.Equal(new CheckResult("nic-link", CheckStatus.Ok, "link up on enp1s0 (1000 Mb/s), enx00e04c680001 (1000 Mb/s)"), result);
    }

    [Fact]
    public void Warning_when_one_bond_member_lost_its_link()
    {
        // eno2 lost carrier; eno3 is administratively down and eno4 was never cabled: neither counts
        var result = NicLinkCheck.Evaluate(Fixtures.Facts(Fixtures.Server).Nics, []);

        Assert.Equal(new CheckResult("nic-link", CheckStatus.Warning, "no carrier on eno2; up on eno1 (10000 Mb/s)"), result);
    }

    [Fact]
    public void Critical_when_every_link_is_lost()
    {
        var result = NicLinkCheck.Evaluate([Nic("eno1", false), Nic("eno2", false)], []);

        Assert.Equal(new CheckResult("nic-link", CheckStatus.Critical, "no carrier on any NIC (eno1, eno2)"), result);
    }

    [Fact]
    public void Critical_when_a_required_interface_is_missing_or_down()
    {
        var nics = Fixtures.Facts(Fixtures.Server).Nics;

        Assert.Equal(CheckStatus.Ok, NicLinkCheck.Evaluate(nics, ["eno1"]).Status);
        Assert.Equal(new CheckResult("nic-link", CheckStatus.Critical, "eno2 has no carrier; eno3 is administratively down; eth9 is missing"), NicLinkCheck.Evaluate(nics, ["eno1", "eno2", "eno3", "eth9"]));
    }

    [Fact]
    public void Unknown_when_there_is_no_nic()
    {
        Assert.Equal(new CheckResult("nic-link", CheckStatus.Unknown, "no NIC backed by a device in /sys/class/net"), NicLinkCheck.Evaluate([], []));
        Assert.Equal(CheckStatus.Unknown, NicLinkCheck.Evaluate([Nic("eno1", null), Nic("eno2", false, upCount: 0)], []).Status);
    }
}
