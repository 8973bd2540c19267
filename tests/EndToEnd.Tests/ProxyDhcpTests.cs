using System.Text;
using System.Text.Json;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// proxyDHCP beside a home router: dnsmasq (in its own namespace, as the router) is the LAN's DHCP server and hands
/// out addresses; nekko-bootserver in proxy mode only tells PXE/iPXE clients what to boot. A VM gets its address
/// from dnsmasq and its boot file from us, runs discovery, and registers.
/// </summary>
public sealed class ProxyDhcpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PxeClient_AddressFromTheRouter_BootFileFromUs()
    {
        var discovery = await DiscoveryImage.GetAsync();
        await using var lab = await Lab.CreateAsync();
        var router = await lab.AddHostAsync("rt", 254);
        var prefix = lab.SubnetPrefix;
        var routerLog = new StringBuilder();
        var leases = Path.Combine(Path.GetTempPath(), $"nekko-dnsmasq-{Guid.NewGuid():N}.leases");
        using var dnsmasq = Lab.StartIn(router, routerLog, null,
            "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root", "--port=0", "--interface=lan0", "--bind-interfaces",
            $"--dhcp-range={prefix}.100,{prefix}.150,12h", $"--dhcp-option=3,{prefix}.254", "--no-ping", "--dhcp-authoritative",
            "--log-dhcp", $"--dhcp-leasefile={leases}", "--pid-file=");
        try
        {
            await using var server = await BootServerInLab.StartAsync(lab, discovery, "--dhcp-interfaces", Lab.Bridge + "=proxy");
            Assert.Contains("Proxy mode", server.Log, StringComparison.OrdinalIgnoreCase);

            var serial = $"PROXY-{Random.Shared.Next(1000, 9999)}";
            await using var vm = QemuVm.Start(lab, "tap0", "52:54:00:e3:00:01", serial, Guid.NewGuid(), QemuVm.Firmware.Bios);
            var marker = await vm.WaitForAsync("NEKKO-DISCOVERED", TimeSpan.FromSeconds(240));
            output.WriteLine($"proxyDHCP beside dnsmasq: VM start → registered in {vm.Elapsed.TotalSeconds:0.0} s");

            // the address came from the router (dnsmasq's range), the boot file from us
            Assert.Matches($@"lease of {prefix.Replace(".", "\\.", StringComparison.Ordinal)}\.1[0-4][0-9] obtained from {prefix.Replace(".", "\\.", StringComparison.Ordinal)}\.254", vm.Console);
            Assert.Contains($"Filename: http://{lab.ServerAddress}:8080/boot/boot.ipxe", vm.Console);
            lock (routerLog)
            {
                Assert.Contains("DHCPACK(lan0)", routerLog.ToString());
            }

            var machine = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement;
            Assert.Equal("uninitialized", machine.GetProperty("state").GetString());
            Assert.Contains(serial, marker);
        }
        finally
        {
            if (!dnsmasq.HasExited)
            {
                dnsmasq.Kill();
                await dnsmasq.WaitForExitAsync();
            }

            File.Delete(leases);
        }
    }
}
