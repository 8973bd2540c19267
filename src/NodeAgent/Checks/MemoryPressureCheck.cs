using System.Globalization;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>PSI averages of one line of /proc/pressure/memory.</summary>
internal sealed record PressureLine(double Avg10, double Avg60, double Avg300, long TotalMicroseconds);

/// <summary>
/// Memory pressure from PSI (Documentation/accounting/psi.rst): "some" is the share of time at least one task
/// stalled on memory, "full" the share all non-idle tasks did at once — thrashing. One-minute averages are judged,
/// so a short burst does not flip the node.
/// </summary>
internal sealed class MemoryPressureCheck(HostRoot host, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "memory-pressure";

    public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CheckResult>>([Evaluate(host.ReadText("/proc/pressure/memory"), thresholds)]);

    /// <summary>Pure: the text of /proc/pressure/memory (null when missing) → the verdict.</summary>
    public static CheckResult Evaluate(string? pressure, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (pressure is null)
        {
            return CheckResult.Unknown(Name, "/proc/pressure/memory is unreadable (kernel without CONFIG_PSI, or booted with psi=0)");
        }

        var lines = Parse(pressure);
        if (!lines.TryGetValue("some", out var some))
        {
            return CheckResult.Unknown(Name, "/proc/pressure/memory has no 'some' line");
        }

        var full = lines.GetValueOrDefault("full");
        var text = string.Create(CultureInfo.InvariantCulture, $"memory pressure some avg60={some.Avg60:0.##}%, full avg60={(full is null ? "n/a" : full.Avg60.ToString("0.##", CultureInfo.InvariantCulture) + "%")}");
        if (full is not null && full.Avg60 >= thresholds.MemoryPressureFullCriticalPercent)
        {
            return CheckResult.Critical(Name, text + string.Create(CultureInfo.InvariantCulture, $" (thrashing: full ≥ {thresholds.MemoryPressureFullCriticalPercent}%)"));
        }

        if (some.Avg60 >= thresholds.MemoryPressureSomeWarningPercent)
        {
            return CheckResult.Warning(Name, text + string.Create(CultureInfo.InvariantCulture, $" (some ≥ {thresholds.MemoryPressureSomeWarningPercent}%)"));
        }

        return CheckResult.Ok(Name, text);
    }

    /// <summary>Lines like <c>some avg10=0.00 avg60=0.00 avg300=0.00 total=0</c>, by their first word; malformed lines are skipped.</summary>
    public static IReadOnlyDictionary<string, PressureLine> Parse(string? text)
    {
        var result = new Dictionary<string, PressureLine>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5)
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var field in fields.Skip(1))
            {
                var equals = field.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    values[field[..equals]] = field[(equals + 1)..];
                }
            }

            if (Number(values, "avg10") is { } a10 && Number(values, "avg60") is { } a60 && Number(values, "avg300") is { } a300 &&
                long.TryParse(values.GetValueOrDefault("total"), NumberStyles.None, CultureInfo.InvariantCulture, out var total))
            {
                result[fields[0]] = new PressureLine(a10, a60, a300, total);
            }
        }

        return result;
    }

    private static double? Number(Dictionary<string, string> values, string key) =>
        double.TryParse(values.GetValueOrDefault(key), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null;
}
