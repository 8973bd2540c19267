namespace NekkoMetal.NodeAgent.Facts;

/// <summary>The raw contents of /sys/class/dmi/id attributes, null for each that could not be read.</summary>
internal sealed record DmiFiles(
    string? SysVendor,
    string? ProductName,
    string? ProductSerial,
    string? ProductUuid,
    string? BoardVendor,
    string? BoardName,
    string? BiosVendor,
    string? BiosVersion,
    string? ChassisType);

/// <summary>SMBIOS values from /sys/class/dmi/id files. Pure.</summary>
internal static class DmiParser
{
    /// <summary>SMBIOS chassis types (DMTF DSP0134 §7.4.1, type 3 offset 05h, lower 7 bits).</summary>
    private static readonly string[] ChassisTypes =
    [
        "", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable", "Laptop",
        "Notebook", "Hand Held", "Docking Station", "All in One", "Sub Notebook", "Space-saving", "Lunch Box",
        "Main Server Chassis", "Expansion Chassis", "SubChassis", "Bus Expansion Chassis", "Peripheral Chassis",
        "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system chassis", "Compact PCI", "Advanced TCA",
        "Blade", "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
    ];

    public static SystemFacts Parse(DmiFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new SystemFacts(
            Clean(files.SysVendor),
            Clean(files.ProductName),
            Clean(files.ProductSerial),
            Clean(files.ProductUuid)?.ToLowerInvariant(),
            Clean(files.BoardVendor),
            Clean(files.BoardName),
            Clean(files.BiosVendor),
            Clean(files.BiosVersion),
            ChassisName(files.ChassisType));
    }

    public static string? ChassisName(string? chassisType)
    {
        var text = Clean(chassisType);
        if (text is null || !int.TryParse(text, out var code))
        {
            return null;
        }

        code &= 0x7F; // bit 7 is the chassis lock flag
        return code > 0 && code < ChassisTypes.Length ? ChassisTypes[code] : $"type {code}";
    }

    /// <summary>DMI strings end in a newline and are often space-padded; control characters are dropped.</summary>
    internal static string? Clean(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var cleaned = new string(value.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }
}
