using System.Text.RegularExpressions;

namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// Who a machine is, from what its firmware reports: the SMBIOS serial when it is a real one; else the SMBIOS
/// system UUID; else its first permanent MAC (a USB or dock NIC must not be that one — discovery reports
/// permanent MACs first). Placeholder serials that vendors ship ("To be filled by O.E.M.", "0123456789", …)
/// are not identities: two such machines would collide.
/// </summary>
public static partial class MachineIdentity
{
    private static readonly HashSet<string> JunkSerials = new(StringComparer.OrdinalIgnoreCase)
    {
        "", "0", "00000000", "0000000000", "0123456789", "1234567890", "123456789", "none", "n/a", "na", "null",
        "default string", "to be filled by o.e.m.", "to be filled by oem", "system serial number", "not specified",
        "not applicable", "oem", "o.e.m.", "chassis serial number", "serial", "invalid", "unknown", "xxxxxxxxxx",
        "empty", "not available", "base board serial number", "defaultstring",
    };

    [GeneratedRegex("^(.)\\1+$", RegexOptions.CultureInvariant)]
    private static partial Regex RepeatedCharacter();

    public static bool IsJunkSerial(string? serial)
    {
        var s = serial?.Trim() ?? "";
        return JunkSerials.Contains(s) || RepeatedCharacter().IsMatch(s) || !MachineValidator.IsValidSerial(s);
    }

    /// <summary>All-zero and all-FF UUIDs are placeholders too.</summary>
    public static bool IsJunkUuid(Guid? uuid) =>
        uuid is null || uuid == Guid.Empty || uuid == new Guid("ffffffff-ffff-ffff-ffff-ffffffffffff") ||
        uuid == new Guid("03000200-0400-0500-0006-000700080009");

    /// <summary>The inventory serial for a machine that reported these values, or null when it reported nothing usable.</summary>
    public static string? Derive(string? smbiosSerial, Guid? uuid, IReadOnlyList<string> permanentMacs)
    {
        ArgumentNullException.ThrowIfNull(permanentMacs);
        if (!IsJunkSerial(smbiosSerial))
        {
            return smbiosSerial!.Trim();
        }

        if (!IsJunkUuid(uuid))
        {
            return "uuid-" + uuid!.Value.ToString("D");
        }

        foreach (var m in permanentMacs)
        {
            if (MachineValidator.TryNormalizeMac(m, out var mac))
            {
                return "mac-" + mac.Replace(":", "", StringComparison.Ordinal);
            }
        }

        return null;
    }
}
