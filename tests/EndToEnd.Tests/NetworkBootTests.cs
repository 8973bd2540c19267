using System.Text.Json;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// A VM with a MAC nobody registered network-boots from nekko-bootserver alone (its DHCP, TFTP and HTTP, in a
/// namespace of our own), runs the discovery image, registers, and appears in the inventory with its facts.
/// One test per firmware path (UEFI HTTP boot: <see cref="UefiHttpBootTests"/>).
/// </summary>
public sealed class NetworkBootTests(ITestOutputHelper output)
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(240);

    public static TheoryData<QemuVm.Firmware> Paths() => new(QemuVm.Firmware.Bios, QemuVm.Firmware.Uefi, QemuVm.Firmware.UefiPxe);

    [Theory]
    [MemberData(nameof(Paths))]
    public Task UnknownVm_NetworkBoots_IsDiscovered_AndListed(QemuVm.Firmware firmware) => BootAndDiscover(firmware);

    /// <summary>
    /// The legacy chain: the BIOS ROM is first given undionly.kpxe over our TFTP (what a plain PXE ROM gets), and the
    /// iPXE that starts gets its script. Under qemu the ROM is iPXE already, so the boot server is told to chain.
    /// </summary>
    [Fact]
    public async Task Bios_LegacyTftpChain_ThroughUndionly()
    {
        var console = await BootAndDiscover(QemuVm.Firmware.Bios, "--dhcp-chain-ipxe", "true");
        Assert.Contains("undionly.kpxe", console);
        Assert.Contains("UNDI", console); // the chained iPXE drives the NIC through the ROM's UNDI
    }

    /// <summary>Boots an unknown VM through <paramref name="firmware"/>'s path and checks it registered; returns its console.</summary>
    internal async Task<string> BootAndDiscover(QemuVm.Firmware firmware, params string[] serverArgs)
    {
        var discovery = await DiscoveryImage.GetAsync();
        await using var lab = await Lab.CreateAsync();
        await using var server = await BootServerInLab.StartAsync(lab, discovery, serverArgs);
        var prefix = lab.SubnetPrefix;
        await server.ApiAsync("PUT", "/api/v1/ipam", $$"""
            {"subnets":[{"name":"lab","cidr":"{{lab.Cidr}}","rangeStart":"{{prefix}}.10","rangeEnd":"{{prefix}}.99",
                         "dhcpRangeStart":"{{prefix}}.100","dhcpRangeEnd":"{{prefix}}.200"}]}
            """);

        var serial = $"E2E-{firmware}-{Random.Shared.Next(1000, 9999)}".ToUpperInvariant();
        var mac = $"52:54:00:e2:{Random.Shared.Next(0, 255):x2}:{Random.Shared.Next(0, 255):x2}";
        await using var vm = QemuVm.Start(lab, "tap0", mac, serial, Guid.NewGuid(), firmware);
        var marker = await vm.WaitForAsync("NEKKO-DISCOVERED", BootTimeout);
        output.WriteLine($"{firmware} {string.Join(' ', serverArgs)}: VM start → registered in {vm.Elapsed.TotalSeconds:0.0} s: {marker}");

        var machine = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement;
        Assert.Equal("uninitialized", machine.GetProperty("state").GetString());
        Assert.Equal(mac, machine.GetProperty("macs")[0].GetString());
        Assert.Equal($"{prefix}.10", machine.GetProperty("ipv4")[0].GetString());
        Assert.Equal("QEMU", machine.GetProperty("hardware").GetProperty("vendor").GetString());
        Assert.Equal("virtio_net", machine.GetProperty("hardware").GetProperty("nics")[0].GetProperty("driver").GetString());
        Assert.True(machine.GetProperty("hardware").GetProperty("memoryBytes").GetInt64() > 256L << 20);
        // Boot progress is written behind the boot path (batched every 250 ms): allow it a moment.
        string[] expected = ["dhcp-discover", "dhcp-ack", "script", "kernel", "initrd", "discovered"];
        JsonElement stages = default;
        for (var i = 0; i < 50; i++)
        {
            machine = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement;
            stages = machine.GetProperty("bootProgress").GetProperty("stages");
            if (expected.All(s => stages.TryGetProperty(s, out _)))
            {
                break;
            }

            await Task.Delay(100);
        }

        foreach (var stage in expected)
        {
            Assert.True(stages.TryGetProperty(stage, out _), $"boot progress lacks '{stage}': {stages}");
        }

        // and nekkoctl lists it, with its address
        var list = await lab.Exec("dotnet", Path.Combine(AppContext.BaseDirectory, "nekkoctl.dll"),
            "--server", server.ApiUrl, "--data-dir", server.DataDir, "machines", "list");
        var row = list.Split('\n').Single(l => l.StartsWith(serial, StringComparison.Ordinal));
        Assert.Contains($"{prefix}.10", row);
        if (firmware == QemuVm.Firmware.UefiPxe)
        {
            Assert.Contains("NBP file downloaded successfully", vm.Console); // ipxe.efi came over our TFTP
            Assert.True(stages.TryGetProperty("nbp", out _), $"boot progress lacks 'nbp': {stages}");
        }

        return vm.Console;
    }
}
