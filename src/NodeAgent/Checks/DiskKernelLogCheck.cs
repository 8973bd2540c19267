using System.Text.RegularExpressions;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>
/// Disk and filesystem errors in the kernel log since boot (<c>dmesg</c>). The patterns are the kernel's own messages:
/// block/blk-core.c ("I/O error, dev sda, sector …", "critical medium error"), fs/buffer.c ("Buffer I/O error on dev"),
/// ext4/XFS/btrfs error reports, libata's UNC and SCSI sense keys (critical), link resets, frozen ports, command
/// timeouts (warning). Optical, floppy and loop devices are ignored: an empty drive logs I/O errors on every probe.
/// </summary>
internal sealed partial class DiskKernelLogCheck(ICommandRunner commands) : IHealthCheck
{
    public const string Name = "disk-kernel-log";

    private static readonly TimeSpan DmesgTimeout = TimeSpan.FromSeconds(10);

    [GeneratedRegex(@"I/O error, dev |Buffer I/O error on dev|critical (medium|target|nexus|space allocation|protection) error|EXT4-fs error|EXT[234]-fs \(\S+\): Remounting filesystem read-only|XFS \(\S+\): (Corruption|metadata I/O error|log I/O error|Filesystem has been shut down)|BTRFS:? (error|critical)|Sense Key : (Medium Error|Hardware Error)|Unrecovered read error|error: \{ [^}]*UNC|I/O Error \(sct", RegexOptions.CultureInvariant)]
    private static partial Regex CriticalPattern();

    [GeneratedRegex(@"ata\d+(\.\d+)?: (exception Emask|failed command|hard resetting link|SError:)|ata\d+: link is slow|FAILED Result: hostbyte|nvme\d+: I/O \d+ QID \d+ timeout|nvme\S*: (resetting controller|controller is down)|Device offlined|rejecting I/O to offline device|EXT4-fs warning", RegexOptions.CultureInvariant)]
    private static partial Regex WarningPattern();

    [GeneratedRegex(@"(\bdev |\bdevice |\[)(sr|fd|loop)\d+\b", RegexOptions.CultureInvariant)]
    private static partial Regex IgnoredDevice();

    public async Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        if (commands.Find("dmesg") is not { } dmesg)
        {
            return [Evaluate(null, "dmesg is not installed")];
        }

        var result = await commands.RunAsync(dmesg, [], DmesgTimeout, cancellationToken);
        return result.ExitCode == 0
            ? [Evaluate(result.StandardOutput, null)]
            : [Evaluate(null, $"dmesg failed: {(result.TimedOut ? "timed out" : result.StartError ?? FirstLine(result.StandardError))}")];
    }

    /// <summary>Pure: the text of the kernel log (null with a reason when it could not be read) → the verdict.</summary>
    public static CheckResult Evaluate(string? kernelLog, string? unreadableReason)
    {
        if (kernelLog is null)
        {
            return CheckResult.Unknown(Name, unreadableReason ?? "kernel log unavailable");
        }

        var critical = new List<string>();
        var warning = new List<string>();
        foreach (var raw in kernelLog.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || IgnoredDevice().IsMatch(line))
            {
                continue;
            }

            if (CriticalPattern().IsMatch(line))
            {
                critical.Add(line);
            }
            else if (WarningPattern().IsMatch(line))
            {
                warning.Add(line);
            }
        }

        if (critical.Count > 0)
        {
            return CheckResult.Critical(Name, $"{critical.Count} disk error line(s) in the kernel log since boot, first: {Shorten(critical[0])}");
        }

        return warning.Count > 0
            ? CheckResult.Warning(Name, $"{warning.Count} disk warning line(s) in the kernel log since boot (link resets, timeouts), first: {Shorten(warning[0])}")
            : CheckResult.Ok(Name, "no disk or filesystem errors in the kernel log since boot");
    }

    private static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + "…";

    internal static string FirstLine(string text) => text.Split('\n', 2)[0].Trim() is { Length: > 0 } first ? Shorten(first) : "no output";
}
