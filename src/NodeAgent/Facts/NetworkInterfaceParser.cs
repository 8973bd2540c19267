using System.Text.Json;

namespace NekkoMetal.NodeAgent.Facts;

/// <summary>The raw sysfs attributes of one /sys/class/net/&lt;name&gt; entry.</summary>
/// <remarks>
/// <para><c>HasDevice</c>: Whether <c>device</c> exists: only interfaces backed by hardware (or a virtual machine's NIC) have one.</para>
/// <para><c>DriverLink</c>: Name of the <c>device/driver</c> symlink's target ("e1000e", "virtio_net", "iwlwifi").</para>
/// <para><c>SubsystemLink</c>: Name of the <c>device/subsystem</c> symlink's target ("pci", "usb", "virtio").</para>
/// <para><c>Uevent</c>: The interface's <c>uevent</c> (DEVTYPE=wlan marks Wi-Fi).</para>
/// <para><c>CarrierUpCount</c>: <c>carrier_up_count</c> (Linux 4.16+): how often the link came up since boot.</para>
/// <para><c>HasWirelessEntry</c>: whether <c>wireless/</c> or the <c>phy80211</c> link exists (cfg80211 devices).</para>
/// <para><c>PermAddress</c>: IFLA_PERM_ADDRESS from netlink (<c>permaddr</c> of <c>ip -j link</c>), when reported.</para>
/// </remarks>
internal sealed record NetworkInterfaceFiles(
    string Name,
    bool HasDevice,
    string? Address,
    string? AddrAssignType,
    string? Carrier,
    string? CarrierUpCount,
    string? OperState,
    string? Speed,
    string? Type,
    string? DriverLink,
    string? SubsystemLink,
    string? Uevent,
    bool HasWirelessEntry,
    string? PermAddress);

/// <summary>NICs from /sys/class/net attributes, and permanent addresses from <c>ip -j link</c>. Pure.</summary>
internal static class NetworkInterfaceParser
{
    /// <summary>ARPHRD_ETHER (include/uapi/linux/if_arp.h); Wi-Fi reports it too.</summary>
    private const string EtherType = "1";

    /// <summary>The NIC, or null for virtual interfaces (no <c>device</c>) and non-Ethernet links (InfiniBand, CAN, …).</summary>
    public static NicFacts? Parse(NetworkInterfaceFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var type = files.Type?.Trim();
        if (!files.HasDevice || (type is not null && type != EtherType))
        {
            return null;
        }

        var mac = NormalizeMac(files.Address);
        var assign = AssignType(files.AddrAssignType);
        var permanent = NormalizeMac(files.PermAddress) ?? (assign == "perm" ? mac : null);
        int? speed = int.TryParse(files.Speed?.Trim(), out var s) && s > 0 ? s : null;
        bool? link = files.Carrier?.Trim() switch
        {
            "1" => true,
            "0" => false,
            _ => null,
        };
        var wireless = files.HasWirelessEntry || UeventValue(files.Uevent, "DEVTYPE") == "wlan";
        int? upCount = int.TryParse(files.CarrierUpCount?.Trim(), out var u) && u >= 0 ? u : null;
        return new NicFacts(files.Name, mac, permanent, assign, link, upCount, files.OperState?.Trim() is { Length: > 0 } o ? o : null, speed, files.DriverLink, files.SubsystemLink, wireless);
    }

    /// <summary>addr_assign_type values, include/uapi/linux/netdevice.h (NET_ADDR_PERM, _RANDOM, _STOLEN, _SET).</summary>
    public static string AssignType(string? addrAssignType) => addrAssignType?.Trim() switch
    {
        "0" => "perm",
        "1" => "random",
        "2" => "stolen",
        "3" => "set",
        _ => "unknown",
    };

    /// <summary>
    /// Interface name → permanent address from the JSON of <c>ip -j link show</c> (iproute2 prints <c>permaddr</c> only when
    /// it differs from the current address, e.g. bond slaves or a MAC changed by NetworkManager). Empty for unparseable input.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParsePermanentAddresses(string? ipLinkJson)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(ipLinkJson))
        {
            return result;
        }

        try
        {
            using var document = JsonDocument.Parse(ipLinkJson);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return result;
            }

            foreach (var link in document.RootElement.EnumerateArray())
            {
                if (link.ValueKind == JsonValueKind.Object &&
                    link.TryGetProperty("ifname", out var name) && name.ValueKind == JsonValueKind.String &&
                    link.TryGetProperty("permaddr", out var perm) && perm.ValueKind == JsonValueKind.String &&
                    NormalizeMac(perm.GetString()) is { } mac)
                {
                    result[name.GetString()!] = mac;
                }
            }
        }
        catch (JsonException)
        {
            // not ip's JSON: no permanent addresses from it
        }

        return result;
    }

    /// <summary>Lower-case aa:bb:cc:dd:ee:ff, or null for anything else (including the all-zero address).</summary>
    public static string? NormalizeMac(string? text)
    {
        var value = text?.Trim().ToLowerInvariant();
        if (value is null || value.Length != 17 || value == "00:00:00:00:00:00")
        {
            return null;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var ok = i % 3 == 2 ? value[i] == ':' : char.IsAsciiHexDigit(value[i]);
            if (!ok)
            {
                return null;
            }
        }

        return value;
    }

    /// <summary>A KEY=value line of a uevent file.</summary>
    internal static string? UeventValue(string? uevent, string key)
    {
        if (uevent is null)
        {
            return null;
        }

        foreach (var line in uevent.Split('\n'))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == '=')
            {
                return line[(key.Length + 1)..].Trim();
            }
        }

        return null;
    }
}
