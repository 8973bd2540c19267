using System.Diagnostics;
using System.Text;

namespace NekkoMetal.TestKit;

/// <summary>
/// A qemu VM (TCG, no KVM) that network-boots on a <see cref="Lab"/> tap device, with its serial console
/// (firmware, iPXE and Linux all print there with -nographic) captured for assertions and for the failure message.
/// </summary>
public sealed class QemuVm : IAsyncDisposable
{
    private readonly StringBuilder _console;
    private readonly Process _process;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public enum Firmware
    {
        /// <summary>SeaBIOS with qemu's iPXE NIC ROM.</summary>
        Bios,

        /// <summary>OVMF running the NIC ROM's iPXE.</summary>
        Uefi,

        /// <summary>OVMF's own PXE (NIC ROM disabled): TFTP ipxe.efi, then iPXE.</summary>
        UefiPxe,

        /// <summary>OVMF's own HTTP boot (NIC ROM disabled).</summary>
        UefiHttp,
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static QemuVm Start(Lab lab, string tap, string mac, string serial, Guid uuid, Firmware firmware, int memoryMb = 512)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var args = new List<string>
        {
            "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-m", memoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", "1", "-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-smbios", $"type=1,serial={serial}", "-uuid", uuid.ToString("D"),
            "-netdev", $"tap,id=n0,ifname={tap},script=no,downscript=no",
        };
        var nic = $"virtio-net-pci,netdev=n0,mac={mac},bootindex=1";
        switch (firmware)
        {
            case Firmware.Bios:
                break;
            case Firmware.Uefi:
                args.AddRange(["-bios", Ovmf]);
                break;
            case Firmware.UefiPxe:
                args.AddRange(["-bios", Ovmf, "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no"]);
                nic += ",romfile=";
                break;
            case Firmware.UefiHttp:
                args.AddRange(["-bios", Ovmf, "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no",
                    "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=no"]);
                nic += ",romfile=";
                break;
        }

        args.AddRange(["-device", nic]);
        var console = new StringBuilder();
        var process = lab.Start(console, null, [.. args]);
        return new QemuVm(process, console);
    }

    private QemuVm(Process process, StringBuilder console)
    {
        _process = process;
        _console = console;
    }

    public static string Ovmf =>
        new[] { "/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("OVMF is not installed: apt-get install ovmf");

    /// <summary>Waits until the console shows <paramref name="marker"/>; fails with the console tail on time-out or exit.</summary>
    public async Task<string> WaitForAsync(string marker, TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            var text = Console;
            var i = text.IndexOf(marker, StringComparison.Ordinal);
            if (i >= 0)
            {
                var end = text.IndexOf('\n', i);
                return end < 0 ? text[i..] : text[i..end].TrimEnd('\r');
            }

            if (until.Elapsed > timeout || (_process.HasExited && !Console.Contains(marker, StringComparison.Ordinal)))
            {
                var tail = text.Length > 6000 ? text[^6000..] : text;
                throw new TimeoutException($"the VM did not print '{marker}' within {timeout.TotalSeconds:0} s (exited: {_process.HasExited}); console tail:\n{tail}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
