using System.Globalization;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>One temperature reading as sysfs gives it (millidegrees Celsius, as text).</summary>
/// <remarks>
/// <para><c>Source</c>: "thermal" for /sys/class/thermal/thermal_zone*, "hwmon" for /sys/class/hwmon/hwmon*.</para>
/// <para><c>Kind</c>: the zone's <c>type</c> (x86_pkg_temp, acpitz, cpu-thermal) or the hwmon chip's <c>name</c> (coretemp, k10temp).</para>
/// <para><c>CriticalMilliCelsius</c>: hwmon <c>tempN_crit</c>, or the zone's trip point of type "critical".</para>
/// </remarks>
internal sealed record TemperatureReading(string Source, string Path, string Kind, string? Label, string? MilliCelsius, string? CriticalMilliCelsius);

/// <summary>
/// CPU temperature from the thermal framework and hwmon (Documentation/hwmon/sysfs-interface.rst: tempN_input in
/// millidegrees). CPU sensors are package/core sensors (coretemp, k10temp, zenpower, x86_pkg_temp, *cpu*); ACPI
/// thermal zones (acpitz) are used only when there is nothing better. VMs usually have no sensor → unknown.
/// </summary>
internal sealed class CpuTemperatureCheck(HostRoot host, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "cpu-temperature";

    private static readonly string[] CpuHwmonNames = ["coretemp", "k10temp", "zenpower", "cpu_thermal", "cpu-thermal", "soc_thermal"];

    public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CheckResult>>([Evaluate(Read(host), thresholds)]);

    /// <summary>The thin reader: every thermal zone and every hwmon temperature input.</summary>
    public static IReadOnlyList<TemperatureReading> Read(HostRoot host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var readings = new List<TemperatureReading>();
        foreach (var zone in host.List("/sys/class/thermal").Where(z => z.StartsWith("thermal_zone", StringComparison.Ordinal)))
        {
            var dir = $"/sys/class/thermal/{zone}";
            string? critical = null;
            foreach (var trip in host.List(dir).Where(f => f.StartsWith("trip_point_", StringComparison.Ordinal) && f.EndsWith("_type", StringComparison.Ordinal)))
            {
                if (host.ReadLine($"{dir}/{trip}") == "critical")
                {
                    critical = host.ReadLine($"{dir}/{trip[..^"_type".Length]}_temp");
                }
            }

            readings.Add(new TemperatureReading("thermal", dir, host.ReadLine($"{dir}/type") ?? "", null, host.ReadLine($"{dir}/temp"), critical));
        }

        foreach (var chip in host.List("/sys/class/hwmon"))
        {
            var dir = $"/sys/class/hwmon/{chip}";
            var name = host.ReadLine($"{dir}/name") ?? "";
            foreach (var input in host.List(dir).Where(f => f.StartsWith("temp", StringComparison.Ordinal) && f.EndsWith("_input", StringComparison.Ordinal)))
            {
                var prefix = input[..^"_input".Length];
                readings.Add(new TemperatureReading("hwmon", $"{dir}/{input}", name, host.ReadLine($"{dir}/{prefix}_label"), host.ReadLine($"{dir}/{input}"), host.ReadLine($"{dir}/{prefix}_crit")));
            }
        }

        return readings;
    }

    /// <summary>Pure: the readings → the hottest CPU sensor's verdict.</summary>
    public static CheckResult Evaluate(IReadOnlyList<TemperatureReading> readings, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentNullException.ThrowIfNull(thresholds);
        var cpu = readings.Where(IsCpuSensor).ToList();
        if (cpu.Count == 0)
        {
            cpu = readings.Where(r => r.Kind == "acpitz").ToList();
        }

        if (cpu.Count == 0)
        {
            return CheckResult.Unknown(Name, readings.Count == 0 ? "no thermal zone or hwmon sensor (virtual machines have none)" : "no CPU temperature sensor among " + string.Join(", ", readings.Select(r => r.Kind).Distinct()));
        }

        var valid = cpu.Select(r => (Reading: r, Celsius: Celsius(r.MilliCelsius), Critical: Celsius(r.CriticalMilliCelsius)))
            .Where(r => r.Celsius is not null)
            .ToList();
        if (valid.Count == 0)
        {
            return CheckResult.Unknown(Name, $"CPU sensors unreadable ({string.Join(", ", cpu.Select(r => r.Path))})");
        }

        var hottest = valid.MaxBy(r => r.Celsius!.Value);
        var celsius = hottest.Celsius!.Value;
        var where = hottest.Reading.Label is { } label ? $"{hottest.Reading.Kind} {label}" : hottest.Reading.Kind;
        var criticalAt = hottest.Critical is { } c && c > 0 ? Math.Min(c, thresholds.CpuTemperatureCriticalCelsius) : thresholds.CpuTemperatureCriticalCelsius;
        var text = string.Create(CultureInfo.InvariantCulture, $"CPU {celsius:0.#} °C ({where})");
        if (celsius >= criticalAt)
        {
            return CheckResult.Critical(Name, text + string.Create(CultureInfo.InvariantCulture, $" ≥ critical {criticalAt:0.#} °C"));
        }

        return celsius >= thresholds.CpuTemperatureWarningCelsius
            ? CheckResult.Warning(Name, text + string.Create(CultureInfo.InvariantCulture, $" ≥ warning {thresholds.CpuTemperatureWarningCelsius:0.#} °C"))
            : CheckResult.Ok(Name, text);
    }

    private static bool IsCpuSensor(TemperatureReading r) =>
        r.Source == "hwmon"
            ? CpuHwmonNames.Contains(r.Kind, StringComparer.Ordinal)
            : r.Kind == "x86_pkg_temp" || r.Kind.Contains("cpu", StringComparison.OrdinalIgnoreCase) || r.Kind.Contains("soc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Millidegrees → degrees; null for unreadable or absurd values (some drivers report -273200 or 0 when idle/off).</summary>
    private static double? Celsius(string? milli) =>
        long.TryParse(milli?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var m) && m > 0 && m < 200_000 ? m / 1000.0 : null;
}
