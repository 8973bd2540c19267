using System.Globalization;
using System.Text.RegularExpressions;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>
/// Disk and filesystem errors in the kernel log since boot (<c>dmesg</c>). The patterns are the kernel's own messages:
/// block/blk-core.c ("I/O error, dev sda, sector …", "critical medium error"), fs/buffer.c ("Buffer I/O error on dev"),
/// ext4/XFS/btrfs error reports, libata's UNC and SCSI sense keys (critical), link resets, frozen ports, command
/// timeouts (warning). Optical, floppy and loop devices are ignored: an empty drive logs I/O errors on every probe.
/// Only lines within <see cref="HealthThresholds.KernelLogWindow"/> of now (by their <c>[seconds]</c> stamp and
/// /proc/uptime) are judged; lines without a stamp always are.
/// </summary>
internal sealed partial class DiskKernelLogCheck(HostRoot host, ICommandRunner commands, HealthThresholds thresholds) : IHealthCheck
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
            return [Evaluate(null, "dmesg is not installed", null, thresholds.KernelLogWindow)];
        }

        var result = await commands.RunAsync(dmesg, [], DmesgTimeout, cancellationToken);
        var uptime = Uptime(host.ReadLine("/proc/uptime"));
        return result.ExitCode == 0
            ? [Evaluate(result.StandardOutput, null, uptime, thresholds.KernelLogWindow)]
            : [Evaluate(null, $"dmesg failed: {(result.TimedOut ? "timed out" : result.StartError ?? FirstLine(result.StandardError))}", uptime, thresholds.KernelLogWindow)];
    }

    /// <summary>
    /// Pure: the text of the kernel log (null with a reason when it could not be read), the seconds since boot (null when
    /// unknown: every line is judged) and the window → the verdict.
    /// </summary>
    public static CheckResult Evaluate(string? kernelLog, string? unreadableReason, double? uptimeSeconds, TimeSpan window)
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
            if (line.Length == 0 || IgnoredDevice().IsMatch(line) || (uptimeSeconds is { } now && Stamp(line) is { } at && now - at > window.TotalSeconds))
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
            return CheckResult.Critical(Name, $"{critical.Count} disk error line(s) in the kernel log {Span(uptimeSeconds, window)}, first: {Shorten(critical[0])}");
        }

        return warning.Count > 0
            ? CheckResult.Warning(Name, $"{warning.Count} disk warning line(s) in the kernel log {Span(uptimeSeconds, window)} (link resets, timeouts), first: {Shorten(warning[0])}")
            : CheckResult.Ok(Name, $"no disk or filesystem errors in the kernel log {Span(uptimeSeconds, window)}");
    }

    /// <summary>The first number of /proc/uptime ("350735.47 234388.90"): seconds since boot.</summary>
    public static double? Uptime(string? procUptime) =>
        double.TryParse(procUptime?.Split(' ', 2)[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) ? s : null;

    /// <summary>The "[ 7302.118230]" stamp dmesg puts before each line, in seconds since boot.</summary>
    private static double? Stamp(string line)
    {
        var close = line.IndexOf(']', StringComparison.Ordinal);
        return line.StartsWith('[') && close > 1 && double.TryParse(line.AsSpan(1, close - 1).Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) ? s : null;
    }

    private static string Span(double? uptimeSeconds, TimeSpan window) =>
        uptimeSeconds is { } now && now > window.TotalSeconds ? $"of the last {window.TotalHours:0.#} h" : "since boot";

    private static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + "…";

    internal static string FirstLine(string text) => text.Split('\n', 2)[0].Trim() is { Length: > 0 } first ? Shorten(first) : "no output";
}
