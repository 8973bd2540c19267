using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Pure field rules, no etcd.</summary>
public sealed class ValidationTests
{
    [Theory]
    [InlineData("52:54:00:AB:cd:01", "52:54:00:ab:cd:01")]
    [InlineData("52-54-00-ab-cd-01", "52:54:00:ab:cd:01")]
    [InlineData("02:00:00:00:00:01", "02:00:00:00:00:01")]
    public void Mac_ValidForms_AreNormalized(string input, string expected)
    {
        Assert.True(MachineValidator.TryNormalizeMac(input, out var mac));
        Assert.Equal(expected, mac);
    }

    [Theory]
    [InlineData("")]
    [InlineData("52:54:00:ab:cd")]
    [InlineData("52:54:00:ab:cd:01:02")]
    [InlineData("52:54-00:ab:cd:01")]
    [InlineData("5254.00ab.cd01")]
    [InlineData("00:00:00:00:00:00")]
    [InlineData("ff:ff:ff:ff:ff:ff")]
    [InlineData("01:00:5e:00:00:fb")]
    [InlineData("gg:54:00:ab:cd:01")]
    [InlineData("+1:54:00:ab:cd:01")]
    public void Mac_InvalidForms_AreRejected(string input) => Assert.False(MachineValidator.TryNormalizeMac(input, out _));

    [Theory]
    [InlineData("rack", true)]
    [InlineData("nekko.dev/zone", true)]
    [InlineData("a_b.c-d", true)]
    [InlineData("", false)]
    [InlineData("-rack", false)]
    [InlineData("UPPER.example/x", false)]
    [InlineData("a/b/c", false)]
    public void LabelKeys(string key, bool valid) => Assert.Equal(valid, MachineValidator.IsValidLabelKey(key));

    [Theory]
    [InlineData("10.0.0.0/24", true)]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("10.0.0.0/30", true)]
    [InlineData("10.0.0.0/31", false)]
    [InlineData("10.0.0.0/7", false)]
    [InlineData("10.0.0.1/24", false)]
    [InlineData("10.0.0/24", false)]
    [InlineData("10.0.0.0", false)]
    [InlineData("10.0.0.0/+24", false)]
    [InlineData("::1/64", false)]
    public void Cidrs(string cidr, bool valid) => Assert.Equal(valid, IpamValidator.TryParseCidr(cidr, out _, out _));

    [Fact]
    public void DefaultRange_IsEveryHostAddress_AndAllocationSkipsTheGateway()
    {
        var subnet = IpamValidator.Resolve(new IpamConfig { Subnets = [new IpamSubnet { Name = "s", Cidr = "192.168.1.0/29", Gateway = "192.168.1.1" }] }).Single();
        Assert.Equal("192.168.1.1", Ipv4.Format(subnet.RangeStart));
        Assert.Equal("192.168.1.6", Ipv4.Format(subnet.RangeEnd));
        Assert.Equal("192.168.1.2", Ipv4.Format(AddressAllocator.FindFree(subnet, _ => false)!.Value));
        Assert.Null(AddressAllocator.FindFree(subnet, a => a != subnet.Gateway));
    }
}
