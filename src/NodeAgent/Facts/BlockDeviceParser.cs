using System.Text;

namespace NekkoMetal.NodeAgent.Facts;

/// <summary>The raw sysfs attributes of one /sys/block/&lt;name&gt; entry.</summary>
/// <remarks>
/// <para><c>HasDevice</c>: Whether <c>device</c> exists: virtual block devices (dm-*, md*, nbd) have none.</para>
/// <para><c>Size</c>: Size in 512-byte sectors, whatever the logical block size (block/genhd.c).</para>
/// <para><c>DeviceSerial</c>: NVMe controller <c>device/serial</c>.</para>
/// <para><c>DiskSerial</c>: virtio-blk <c>serial</c> at the disk level.</para>
/// <para><c>VpdPage80</c>: SCSI/SATA Unit Serial Number VPD page (<c>device/vpd_pg80</c>, binary).</para>
/// </remarks>
internal sealed record BlockDeviceFiles(
    string Name,
    bool HasDevice,
    string? Size,
    string? Rotational,
    string? Removable,
    string? Vendor,
    string? Model,
    string? DeviceSerial,
    string? DiskSerial,
    byte[]? VpdPage80);

/// <summary>Disks from /sys/block attributes. Pure.</summary>
internal static class BlockDeviceParser
{
    /// <summary>Memory and loop devices, and optical/floppy drives (never a disk to install on; QEMU's fd0 logs I/O errors).</summary>
    private static readonly string[] SkippedPrefixes = ["loop", "ram", "zram", "sr", "fd"];

    /// <summary>Whether a /sys/block entry is a memory or loop device the agent never reports.</summary>
    public static bool IsSkippedName(string name) => SkippedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The disk, or null for entries that are not disks (loop, ram, zram, sr, fd, device-less virtual devices, unreadable size).</summary>
    public static DiskFacts? Parse(BlockDeviceFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (IsSkippedName(files.Name) || !files.HasDevice || !long.TryParse(files.Size?.Trim(), out var sectors) || sectors < 0 || sectors > long.MaxValue / 512)
        {
            return null;
        }

        // virtio-blk's device/vendor is the virtio vendor id ("0x1af4"), not a name
        var vendor = DmiParser.Clean(files.Vendor) is { } v && !v.StartsWith("0x", StringComparison.Ordinal) ? v : null;
        return new DiskFacts(
            files.Name,
            sectors * 512,
            files.Rotational?.Trim() == "1",
            files.Removable?.Trim() == "1",
            vendor,
            DmiParser.Clean(files.Model),
            DmiParser.Clean(files.DeviceSerial) ?? DmiParser.Clean(files.DiskSerial) ?? UnitSerial(files.VpdPage80));
    }

    /// <summary>
    /// The product serial number of a Unit Serial Number VPD page (SPC-4 §7.8.15): byte 1 is the page code 0x80,
    /// bytes 2–3 the page length (big-endian), then the ASCII serial, often space-padded.
    /// </summary>
    public static string? UnitSerial(byte[]? page)
    {
        if (page is null || page.Length < 4 || page[1] != 0x80)
        {
            return null;
        }

        var length = Math.Min((page[2] << 8) | page[3], page.Length - 4);
        var text = Encoding.ASCII.GetString(page, 4, length);
        return DmiParser.Clean(text.Replace('\0', ' '));
    }
}
