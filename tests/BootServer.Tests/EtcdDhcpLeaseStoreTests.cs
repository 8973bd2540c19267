using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.BootServer.Dhcp;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.BootServer.Tests;

/// <summary>Who a DHCP lease belongs to (pure: no etcd).</summary>
public sealed class EtcdDhcpLeaseStoreTests
{
    private static LeaseRequest Request(string mac, string clientIdHex) => new(
        PhysicalAddress.Parse(mac), Convert.FromHexString(clientIdHex), IPAddress.Parse("10.0.0.1"), "br0", null, null, null, IPAddress.Parse("10.0.0.1"));

    [Theory]
    [InlineData("52-54-00-12-34-56", "", "mac:52:54:00:12:34:56")] // firmware: no option 61
    [InlineData("52-54-00-12-34-56", "01525400123456", "mac:52:54:00:12:34:56")] // iPXE: 01 + its own MAC = the same client
    [InlineData("52-54-00-12-34-56", "01525400ffffff", "id:01525400ffffff")] // another MAC in the id: the id decides
    [InlineData("52-54-00-12-34-56", "ff00000001000100", "id:ff00000001000100")] // RFC 4361 style (dhclient, systemd)
    [InlineData("52-54-00-12-34-56", "00525400123456", "id:00525400123456")] // type 0: an opaque id
    public void ClientKey_TreatsAnEthernetIdOfTheOwnMacAsTheMac(string mac, string clientId, string expected) =>
        Assert.Equal(expected, EtcdDhcpLeaseStore.ClientKey(Request(mac, clientId)));
}
