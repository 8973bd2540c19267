using System.Globalization;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>The <c>uevent</c> of one /sys/class/power_supply entry (null when unreadable).</summary>
internal sealed record PowerSupplyFiles(string Name, string? Uevent);

/// <summary>
/// Battery and AC state of laptops (Documentation/ABI/testing/sysfs-class-power: POWER_SUPPLY_TYPE Battery, Mains,
/// USB; STATUS, CAPACITY, ONLINE, energy/charge full and full-design). Device-scoped batteries (a wireless mouse)
/// are ignored. A machine with neither battery nor AC adapter is not a laptop: ok. On battery → warning (the AC
/// was unplugged or the socket died), at or below the critical charge → critical; a worn battery → warning.
/// </summary>
internal sealed class PowerSupplyCheck(HostRoot host, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "power";

    public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        var supplies = host.List("/sys/class/power_supply")
            .Select(n => new PowerSupplyFiles(n, host.ReadText($"/sys/class/power_supply/{n}/uevent")))
            .ToList();
        return Task.FromResult<IReadOnlyList<CheckResult>>([Evaluate(supplies, thresholds)]);
    }

    /// <summary>Pure: the supplies' uevents → the verdict.</summary>
    public static CheckResult Evaluate(IReadOnlyList<PowerSupplyFiles> supplies, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(supplies);
        ArgumentNullException.ThrowIfNull(thresholds);
        var unreadable = supplies.Where(s => s.Uevent is null).Select(s => s.Name).ToList();
        var parsed = supplies.Where(s => s.Uevent is not null).Select(s => (s.Name, Values: Values(s.Uevent!))).ToList();
        if (supplies.Count > 0 && parsed.Count == 0)
        {
            return CheckResult.Unknown(Name, $"power supply uevent unreadable ({string.Join(", ", unreadable)})");
        }

        var batteries = parsed.Where(p => p.Values.GetValueOrDefault("TYPE") == "Battery" && p.Values.GetValueOrDefault("SCOPE") != "Device" && p.Values.GetValueOrDefault("PRESENT") != "0").ToList();
        var adapters = parsed.Where(p => p.Values.GetValueOrDefault("TYPE") is "Mains" or "USB" or "USB_C" or "USB_PD").ToList();
        if (batteries.Count == 0)
        {
            return CheckResult.Ok(Name, adapters.Count == 0 ? "no battery or AC adapter: not a laptop" : "no battery; AC adapter " + (adapters.Any(a => a.Values.GetValueOrDefault("ONLINE") == "1") ? "online" : "offline"));
        }

        var statuses = batteries.Select(b => b.Values.GetValueOrDefault("STATUS")).ToList();
        bool onAc = adapters.Count > 0
            ? adapters.Any(a => a.Values.GetValueOrDefault("ONLINE") == "1")
            : statuses.All(s => s is not "Discharging");
        var descriptions = new List<string>();
        int? lowest = null;
        var worn = new List<string>();
        foreach (var (name, values) in batteries)
        {
            var capacity = Int(values, "CAPACITY");
            if (capacity is not null)
            {
                lowest = Math.Min(lowest ?? int.MaxValue, capacity.Value);
            }

            descriptions.Add($"{name} {(capacity is null ? "charge unknown" : capacity + "%")} {values.GetValueOrDefault("STATUS") ?? "status unknown"}");
            var full = Long(values, "ENERGY_FULL") ?? Long(values, "CHARGE_FULL");
            var design = Long(values, "ENERGY_FULL_DESIGN") ?? Long(values, "CHARGE_FULL_DESIGN");
            if (full is { } f && design is > 0 and var d && 100.0 * f / d < thresholds.BatteryHealthWarningPercent)
            {
                worn.Add(string.Create(CultureInfo.InvariantCulture, $"{name} worn: {100.0 * f / d:0}% of design capacity"));
            }
        }

        var summary = string.Join(", ", descriptions);
        if (!onAc)
        {
            return lowest is { } charge && charge <= thresholds.BatteryCriticalPercent
                ? CheckResult.Critical(Name, $"on battery at {charge}% (≤ {thresholds.BatteryCriticalPercent}%): {summary}")
                : CheckResult.Warning(Name, $"on battery, AC adapter unplugged or without power: {summary}");
        }

        return worn.Count > 0
            ? CheckResult.Warning(Name, $"on AC; {string.Join(", ", worn)}")
            : CheckResult.Ok(Name, $"on AC: {summary}");
    }

    private static Dictionary<string, string> Values(string uevent)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in uevent.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith("POWER_SUPPLY_", StringComparison.Ordinal) && equals > 0)
            {
                values[line["POWER_SUPPLY_".Length..equals]] = line[(equals + 1)..].Trim();
            }
        }

        return values;
    }

    private static int? Int(Dictionary<string, string> values, string key) =>
        int.TryParse(values.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static long? Long(Dictionary<string, string> values, string key) =>
        long.TryParse(values.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
