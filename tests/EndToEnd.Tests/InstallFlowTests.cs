using System.Diagnostics;
using System.Text.Json;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// The install flow with a real VM, through nekko-bootserver alone (its DHCP, TFTP and HTTP in a namespace of our
/// own): an unknown VM network-boots and is discovered; it is given a role whose boot profile boots a small "OS" (the
/// discovery kernel and initramfs, plus an initrd of our own whose <c>/nekko-install</c> runs as init); the VM boots
/// again (a new qemu with the same MAC, serial and UUID — qemu runs with -no-reboot), boots that profile from the
/// asset store, fetches its user-data from the <c>ds=nocloud;s=…</c> URL on its command line, checks its serial is in
/// it, and reports installed with the bootstrap token the user-data carries. The install record then has
/// <c>installedAt</c> and the profile version, and the VM's next boot is the local-boot script (iPXE <c>exit</c>);
/// after <c>nekkoctl machines reinstall</c> the script is the install one again.
/// </summary>
public sealed class InstallFlowTests(ITestOutputHelper output)
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(240);

    /// <summary>
    /// PID 1 of the test's "OS" (<c>rdinit=/nekko-install</c>), on top of the discovery initramfs (busybox, NIC
    /// modules, udhcpc script): network up, user-data from the NoCloud seed URL, identity check, install report.
    /// </summary>
    private const string Installer = """
        #!/bin/sh
        export PATH=/bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        fail() { echo "NEKKO-INSTALL-FAILED $*"; sleep 1; poweroff -f; }
        echo "nekko-install: starting"
        for a in $(cat /proc/cmdline); do
          case "$a" in "ds=nocloud;s="*) SEED="${a#ds=nocloud;s=}" ;; esac
        done
        [ -n "$SEED" ] || fail "no ds=nocloud;s= on the kernel command line"
        for pass in 1 2; do
          for m in /sys/bus/pci/devices/*/modalias /sys/bus/virtio/devices/*/modalias; do
            [ -f "$m" ] && modprobe -q "$(cat "$m")" 2>/dev/null
          done
          sleep 1
        done
        IFACE=""
        for n in /sys/class/net/*; do
          name="${n##*/}"
          [ "$name" = lo ] && continue
          [ -e "$n/device" ] && { ip link set "$name" up; IFACE="$name"; break; }
        done
        [ -n "$IFACE" ] || fail "no network interface"
        udhcpc -i "$IFACE" -n -q -t 10 -T 2 -s /etc/udhcpc.script || fail "no DHCP answer"
        SERIAL="$(cat /sys/class/dmi/id/product_serial)"
        wget -q -O /tmp/user-data "${SEED}user-data" || fail "cannot fetch ${SEED}user-data"
        wget -q -O /tmp/meta-data "${SEED}meta-data" || fail "cannot fetch ${SEED}meta-data"
        grep -q "^  serial: \"$SERIAL\"\$" /tmp/user-data || fail "user-data is not for $SERIAL: $(cat /tmp/user-data)"
        TOKEN="$(sed -n 's/^  token: "\(nekkoboot_[A-Za-z0-9_-]*\)"$/\1/p' /tmp/user-data)"
        [ -n "$TOKEN" ] || fail "no bootstrap token in user-data"
        echo "NEKKO-CONFIG-OK $SERIAL $(grep instance-id /tmp/meta-data)"
        wget -q -O /tmp/answer --header "Authorization: Bearer $TOKEN" --header "Content-Type: application/json" \
          --post-data '{}' "${SEED}installed" || fail "the install report was refused"
        echo "NEKKO-INSTALLED $(cat /tmp/answer)"
        sleep 1
        poweroff -f
        """;

    private const string UserData = """
        #cloud-config
        hostname: {{ hostname | json }}
        nekko:
          serial: {{ serial | json }}
          token: {{ bootstrap_token | json }}
          server: {{ boot_server_url | json }}

        """;

    /// <summary>BIOS (iPXE's bzImage loader joins the initrds) and UEFI (the kernel's EFI stub loads each by its initrd=NAME).</summary>
    public static TheoryData<QemuVm.Firmware> Firmwares() => new(QemuVm.Firmware.Bios, QemuVm.Firmware.Uefi);

    [Theory]
    [MemberData(nameof(Firmwares))]
    public async Task RegisteredVm_WithARole_InstallsItsProfile_ReportsInstalled_ThenBootsLocally(QemuVm.Firmware firmware)
    {
        var discovery = await DiscoveryImage.GetAsync();
        await using var lab = await Lab.CreateAsync();
        await using var server = await BootServerInLab.StartAsync(lab, discovery);
        var prefix = lab.SubnetPrefix;
        await server.ApiAsync("PUT", "/api/v1/ipam", $$"""
            {"subnets":[{"name":"lab","cidr":"{{lab.Cidr}}","rangeStart":"{{prefix}}.10","rangeEnd":"{{prefix}}.99",
                         "dhcpRangeStart":"{{prefix}}.100","dhcpRangeEnd":"{{prefix}}.200"}]}
            """);
        var serial = $"E2E-INSTALL-{Random.Shared.Next(1000, 9999)}";
        var mac = $"52:54:00:e3:{Random.Shared.Next(0, 255):x2}:{Random.Shared.Next(0, 255):x2}";
        var uuid = Guid.NewGuid();
        var total = Stopwatch.StartNew();

        // 1. Unknown: discovery registers it.
        await using (var first = QemuVm.Start(lab, "tap0", mac, serial, uuid, firmware))
        {
            await first.WaitForAsync("NEKKO-DISCOVERED", BootTimeout);
            output.WriteLine($"discovered after {first.Elapsed.TotalSeconds:0.0} s");
        }

        // 2. The "OS" as assets, a profile for role "e2e-os", and the role given to the machine.
        var work = Directory.CreateTempSubdirectory("nekko-e2e-install-").FullName;
        try
        {
            var overlay = await BuildInstallerInitrdAsync(work);
            await Nekkoctl(lab, server, "assets", "upload", "e2e-vmlinuz", Path.Combine(discovery, "vmlinuz"));
            await Nekkoctl(lab, server, "assets", "upload", "e2e-base.img", Path.Combine(discovery, "initrd.img"));
            await Nekkoctl(lab, server, "assets", "upload", "e2e-installer.img", overlay);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        var profile = JsonSerializer.Serialize(new
        {
            kernel = "e2e-vmlinuz",
            initrds = new[] { "e2e-base.img", "e2e-installer.img" },
            cmdline = "console=ttyS0 panic=-1 cryptomgr.notests rdinit=/nekko-install",
            config = new { kind = "cloud-init", userData = UserData },
        });
        await server.ApiAsync("PUT", "/api/v1/profiles/e2e-os", profile);
        await server.ApiAsync("PATCH", "/api/v1/machines/" + serial, """{"role":"e2e-os"}""");
        var before = JsonDocument.Parse(await server.ApiAsync("GET", $"/api/v1/machines/{serial}/install")).RootElement;
        Assert.True(before.GetProperty("due").GetBoolean(), before.ToString());

        // 3. Next boot: the profile's kernel and initrds, its configuration fetched with its identity, install reported.
        await using (var install = QemuVm.Start(lab, "tap0", mac, serial, uuid, firmware))
        {
            var installed = await install.WaitForAsync("NEKKO-INSTALLED", BootTimeout);
            output.WriteLine($"installed after {install.Elapsed.TotalSeconds:0.0} s: {installed}");
            var console = install.Console;
            Assert.Contains($"NekkoMetal: {serial} installs role e2e-os from profile version 1", console, StringComparison.Ordinal);
            Assert.Contains($"/boot/assets/e2e-vmlinuz", console, StringComparison.Ordinal);
            Assert.Contains($"NEKKO-CONFIG-OK {serial} instance-id: \"{serial}-v1\"", console, StringComparison.Ordinal);
            Assert.DoesNotContain("NEKKO-INSTALL-FAILED", console, StringComparison.Ordinal);
        }

        var status = JsonDocument.Parse(await server.ApiAsync("GET", $"/api/v1/machines/{serial}/install")).RootElement;
        var record = status.GetProperty("record");
        Assert.False(status.GetProperty("due").GetBoolean(), status.ToString());
        Assert.Equal("e2e-os", record.GetProperty("role").GetString());
        Assert.Equal(1, record.GetProperty("profileVersion").GetInt64());
        Assert.Equal(JsonValueKind.String, record.GetProperty("installedAt").ValueKind);
        // Installed: its configuration (and a fresh agent token) is no longer served.
        var refused = await lab.Exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", $"{server.Url}/boot/config/{serial}/user-data");
        Assert.Equal("409", refused.Trim());

        // 4. The boot after: local disk (iPXE exits to the firmware's next boot device).
        await using (var local = QemuVm.Start(lab, "tap0", mac, serial, uuid, firmware))
        {
            await local.WaitForAsync($"NekkoMetal: {serial} boots from its local disk", BootTimeout);
            output.WriteLine($"local boot after {local.Elapsed.TotalSeconds:0.0} s");
            Assert.DoesNotContain("installs role", local.Console, StringComparison.Ordinal);
        }

        // Boot progress is written behind the boot path (batched every 250 ms): allow it a moment.
        JsonElement stages = default;
        for (var i = 0; i < 50; i++)
        {
            var machine = JsonDocument.Parse(await server.ApiAsync("GET", "/api/v1/machines/" + serial)).RootElement;
            stages = machine.GetProperty("bootProgress").GetProperty("stages");
            if (stages.TryGetProperty("local-boot", out _))
            {
                break;
            }

            await Task.Delay(100);
        }

        foreach (var stage in new[] { "install", "installed", "local-boot" })
        {
            Assert.True(stages.TryGetProperty(stage, out _), $"boot progress lacks '{stage}': {stages}");
        }

        // 5. A reinstall request: the next script is the install one again.
        var reinstall = await Nekkoctl(lab, server, "machines", "reinstall", serial);
        Assert.Contains("installs role e2e-os (profile version 1) at its next network boot", reinstall, StringComparison.Ordinal);
        var script = await lab.Exec("curl", "-sS", "--fail", $"{server.Url}/boot/ipxe?serial={serial}&uuid={uuid}&mac={mac.Replace(':', '-')}");
        Assert.Contains("kernel " + server.Url + "/boot/assets/e2e-vmlinuz initrd=e2e-base.img initrd=e2e-installer.img console=ttyS0", script, StringComparison.Ordinal);

        var audit = await server.ApiAsync("GET", "/api/v1/audit");
        foreach (var action in new[] { "install.config", "install.installed", "install.reinstall" })
        {
            Assert.Contains($"\"{action}\"", audit, StringComparison.Ordinal);
        }

        Assert.Contains("reported installed", server.Log, StringComparison.Ordinal);
        output.WriteLine($"{firmware}: whole flow {total.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>A gzip'd newc cpio with <c>/nekko-install</c> (0755), loaded after the discovery initramfs.</summary>
    private static async Task<string> BuildInstallerInitrdAsync(string work)
    {
        var root = Directory.CreateDirectory(Path.Combine(work, "root")).FullName;
        var init = Path.Combine(root, "nekko-install");
        await File.WriteAllTextAsync(init, Installer.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(init, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var image = Path.Combine(work, "installer.img");
        await Lab.Run("sh", "-c", $"cd '{root}' && find . | cpio -o -H newc --quiet | gzip -1 > '{image}'");
        return image;
    }

    private static Task<string> Nekkoctl(Lab lab, BootServerInLab server, params string[] args) =>
        lab.Exec(["dotnet", Path.Combine(AppContext.BaseDirectory, "nekkoctl.dll"), "--server", server.ApiUrl, "--data-dir", server.DataDir, .. args]);
}
