using System.Globalization;
using System.Text;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>One line of /proc/self/mountinfo (proc(5)).</summary>
/// <summary>One mountinfo line. <c>ReadOnly</c>: this mount is read-only; <c>FilesystemReadOnly</c>: the filesystem itself (its superblock) is.</summary>
internal sealed record MountEntry(string Device, string MountPoint, string FsType, string Source, bool ReadOnly, bool FilesystemReadOnly = false);

/// <summary>
/// Free space and inodes of every disk-backed filesystem, and whether one is read-only — ext4 with
/// <c>errors=remount-ro</c> and XFS/btrfs after a journal abort keep running read-only, which looks healthy until
/// the first write.
/// </summary>
internal sealed class FilesystemCheck(HostRoot host, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "filesystem";

    /// <summary>Filesystem types that live on a disk; pseudo and image filesystems (tmpfs, overlay, squashfs, iso9660) are not checked.</summary>
    private static readonly HashSet<string> DiskFsTypes = new(StringComparer.Ordinal)
    {
        "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "vfat", "exfat", "ntfs3", "zfs", "bcachefs", "jfs", "reiserfs", "nilfs2",
    };

    public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        var mountinfo = host.ReadText("/proc/self/mountinfo");
        var usage = new Dictionary<string, FilesystemUsage>(StringComparer.Ordinal);
        foreach (var mount in ParseMountInfo(mountinfo).Where(m => DiskFsTypes.Contains(m.FsType)))
        {
            if (StatVfs.TryGet(host.Resolve(mount.MountPoint)) is { } u)
            {
                usage[mount.MountPoint] = u;
            }
        }

        return Task.FromResult<IReadOnlyList<CheckResult>>([Evaluate(mountinfo, usage, thresholds)]);
    }

    /// <summary>Pure: the mountinfo text and the statvfs values of its mount points → the verdict.</summary>
    public static CheckResult Evaluate(string? mountinfo, IReadOnlyDictionary<string, FilesystemUsage> usage, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (mountinfo is null)
        {
            return CheckResult.Unknown(Name, "/proc/self/mountinfo is unreadable");
        }

        var mounts = ParseMountInfo(mountinfo).Where(m => DiskFsTypes.Contains(m.FsType)).ToList();
        if (mounts.Count == 0)
        {
            return CheckResult.Unknown(Name, "no disk-backed filesystem in /proc/self/mountinfo");
        }

        var critical = new List<string>();
        var warning = new List<string>();
        var unknown = new List<string>();
        var seenDevices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            // A read-only bind of a writable filesystem is deliberate (containers bind host files read-only); a filesystem
            // whose superblock is read-only was mounted or remounted so, and errors=remount-ro does exactly that.
            if (mount.FilesystemReadOnly && !thresholds.ExpectedReadOnlyMounts.Contains(mount.MountPoint))
            {
                critical.Add($"{mount.MountPoint} ({mount.Source}, {mount.FsType}) is mounted read-only (remounted after errors?)");
            }

            // bind mounts show the same filesystem again: its space is counted once
            if (!seenDevices.Add(mount.Device))
            {
                continue;
            }

            if (!usage.TryGetValue(mount.MountPoint, out var u))
            {
                unknown.Add($"{mount.MountPoint}: statvfs failed");
                continue;
            }

            if (u.TotalBytes > 0)
            {
                var free = 100.0 * u.AvailableBytes / u.TotalBytes;
                var text = string.Create(CultureInfo.InvariantCulture, $"{mount.MountPoint} {free:0.#}% free ({Bytes(u.AvailableBytes)} of {Bytes(u.TotalBytes)})");
                (free < thresholds.FilesystemFreeCriticalPercent ? critical : free < thresholds.FilesystemFreeWarningPercent ? warning : null)?.Add(text);
            }

            if (u.TotalInodes > 0)
            {
                var free = 100.0 * u.FreeInodes / u.TotalInodes;
                var text = string.Create(CultureInfo.InvariantCulture, $"{mount.MountPoint} {free:0.#}% inodes free ({u.FreeInodes} of {u.TotalInodes})");
                (free < thresholds.InodesFreeCriticalPercent ? critical : free < thresholds.InodesFreeWarningPercent ? warning : null)?.Add(text);
            }
        }

        if (critical.Count > 0)
        {
            return CheckResult.Critical(Name, string.Join("; ", critical.Concat(warning)));
        }

        if (warning.Count > 0)
        {
            return CheckResult.Warning(Name, string.Join("; ", warning));
        }

        if (unknown.Count == seenDevices.Count)
        {
            return CheckResult.Unknown(Name, string.Join("; ", unknown));
        }

        var checkedCount = seenDevices.Count - unknown.Count;
        return CheckResult.Ok(Name, $"{checkedCount} filesystem(s) writable with enough free space" + (unknown.Count > 0 ? "; " + string.Join("; ", unknown) : ""));
    }

    /// <summary>
    /// Parses mountinfo lines: <c>36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue</c>.
    /// Malformed lines are skipped; octal escapes (<c>\040</c> for a space) in paths are decoded.
    /// </summary>
    public static IReadOnlyList<MountEntry> ParseMountInfo(string? mountinfo)
    {
        var entries = new List<MountEntry>();
        if (mountinfo is null)
        {
            return entries;
        }

        foreach (var line in mountinfo.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || separator < 6 || separator + 2 >= fields.Length)
            {
                continue;
            }

            var options = fields[5].Split(',');
            var superOptions = separator + 3 < fields.Length ? fields[separator + 3].Split(',') : [];
            entries.Add(new MountEntry(fields[2], Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2]), options.Contains("ro"), superOptions.Contains("ro")));
        }

        return entries;
    }

    private static string Unescape(string path)
    {
        if (!path.Contains('\\', StringComparison.Ordinal))
        {
            return path;
        }

        var result = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '\\' && i + 3 < path.Length && IsOctal(path[i + 1]) && IsOctal(path[i + 2]) && IsOctal(path[i + 3]))
            {
                result.Append((char)(((path[i + 1] - '0') * 64) + ((path[i + 2] - '0') * 8) + (path[i + 3] - '0')));
                i += 3;
            }
            else
            {
                result.Append(path[i]);
            }
        }

        return result.ToString();

        static bool IsOctal(char c) => c is >= '0' and <= '7';
    }

    internal static string Bytes(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
