using System.Text.Json;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>
/// Failed systemd units, from <c>systemctl list-units --failed --output=json</c> (systemd 246 and later) or, where
/// JSON output is not supported, its plain listing (<c>--plain --no-legend</c>). A failed unit named in
/// <see cref="HealthThresholds.EffectiveCriticalUnits"/> → critical; any other → warning.
/// </summary>
internal sealed class SystemdUnitsCheck(ICommandRunner commands, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "systemd-units";

    private static readonly TimeSpan SystemctlTimeout = TimeSpan.FromSeconds(15);

    public async Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        if (commands.Find("systemctl") is not { } systemctl)
        {
            return [Evaluate(null, "systemctl not found (not a systemd system)", thresholds)];
        }

        var json = await commands.RunAsync(systemctl, ["list-units", "--failed", "--output=json", "--no-pager"], SystemctlTimeout, cancellationToken);
        if (json.ExitCode == 0 && json.StandardOutput.TrimStart().StartsWith('['))
        {
            return [Evaluate(json.StandardOutput, null, thresholds)];
        }

        var plain = await commands.RunAsync(systemctl, ["list-units", "--failed", "--plain", "--no-legend", "--no-pager"], SystemctlTimeout, cancellationToken);
        return plain.ExitCode == 0
            ? [Evaluate(plain.StandardOutput, null, thresholds)]
            : [Evaluate(null, $"systemctl failed: {(plain.TimedOut ? "timed out" : plain.StartError ?? DiskKernelLogCheck.FirstLine(plain.StandardError))}", thresholds)];
    }

    /// <summary>Pure: systemctl's output (JSON array or plain lines; null with a reason when it could not run) → the verdict.</summary>
    public static CheckResult Evaluate(string? output, string? unavailableReason, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (output is null)
        {
            return CheckResult.Unknown(Name, unavailableReason ?? "systemctl output unavailable");
        }

        var failed = ParseFailedUnits(output);
        if (failed is null)
        {
            return CheckResult.Unknown(Name, "systemctl output is neither its JSON nor its plain unit listing");
        }

        if (failed.Count == 0)
        {
            return CheckResult.Ok(Name, "no failed units");
        }

        var critical = failed.Where(u => thresholds.EffectiveCriticalUnits.Contains(u)).ToList();
        return critical.Count > 0
            ? CheckResult.Critical(Name, $"failed: {string.Join(", ", failed)} (critical: {string.Join(", ", critical)})")
            : CheckResult.Warning(Name, $"failed: {string.Join(", ", failed)}");
    }

    /// <summary>Names of failed units, or null when the text is not a listing systemctl produces.</summary>
    public static IReadOnlyList<string>? ParseFailedUnits(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var trimmed = output.Trim();
        if (trimmed.StartsWith('['))
        {
            try
            {
                using var document = JsonDocument.Parse(trimmed);
                var units = new List<string>();
                foreach (var unit in document.RootElement.EnumerateArray())
                {
                    if (unit.ValueKind != JsonValueKind.Object || !unit.TryGetProperty("unit", out var name) || name.ValueKind != JsonValueKind.String)
                    {
                        return null;
                    }

                    // --failed lists units whose active state is failed; keep the check honest if a filter is ever dropped
                    if (!unit.TryGetProperty("active", out var active) || active.GetString() == "failed")
                    {
                        units.Add(name.GetString()!);
                    }
                }

                return units;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return null;
            }
        }

        var result = new List<string>();
        foreach (var raw in trimmed.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "● nginx.service loaded failed failed A high performance web server" (the bullet without --plain)
            var fields = raw.Trim().TrimStart('●', '*', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0] == "0" || raw.Contains("loaded units listed", StringComparison.Ordinal))
            {
                continue;
            }

            if (fields.Length < 4 || !fields[0].Contains('.', StringComparison.Ordinal))
            {
                return null;
            }

            if (fields[2] == "failed")
            {
                result.Add(fields[0]);
            }
        }

        return result;
    }
}
