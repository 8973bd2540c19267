using System.Text.Json;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>smartctl's JSON (<c>smartctl --json -H -A /dev/X</c>) for one disk, or why there is none.</summary>
internal sealed record SmartReport(string Device, string? Json, string? Error);

/// <summary>
/// SMART health of each disk through smartmontools' JSON output (smartctl 7.0 and later). ATA: overall assessment,
/// attributes failing now, and raw counts of reallocated (5), pending (197) and offline-uncorrectable (198) sectors;
/// SAS/SCSI: the grown defect list;
/// NVMe: critical_warning, spare below threshold, media errors, wear (percentage_used).
/// </summary>
internal sealed class SmartCheck(HostRoot host, ICommandRunner commands) : IHealthCheck
{
    public const string Name = "disk-smart";

    private static readonly TimeSpan SmartTimeout = TimeSpan.FromSeconds(30);

    public async Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        if (commands.Find("smartctl") is not { } smartctl)
        {
            return [Evaluate(null)];
        }

        var reports = new List<SmartReport>();
        foreach (var name in host.List("/sys/block"))
        {
            if (BlockDeviceParser.IsSkippedName(name) || !host.Exists($"/sys/block/{name}/device") || host.ReadLine($"/sys/block/{name}/removable") == "1")
            {
                continue;
            }

            var device = "/dev/" + name;
            var run = await commands.RunAsync(smartctl, ["--json", "-H", "-A", device], SmartTimeout, cancellationToken);
            reports.Add(run.Started && !run.TimedOut
                ? new SmartReport(device, run.StandardOutput, null)
                : new SmartReport(device, null, run.TimedOut ? "smartctl timed out" : run.StartError));
        }

        return [Evaluate(reports)];
    }

    /// <summary>Pure: one report per disk (null when smartctl is not installed) → the verdict.</summary>
    public static CheckResult Evaluate(IReadOnlyList<SmartReport>? reports)
    {
        if (reports is null)
        {
            return CheckResult.Unknown(Name, "smartctl is not installed (Debian: smartmontools)");
        }

        if (reports.Count == 0)
        {
            return CheckResult.Unknown(Name, "no fixed disk to ask");
        }

        var findings = reports.Select(EvaluateDisk).ToList();
        var status = CheckResult.Worst(findings.Select(f => f.Status));
        var shown = status == CheckStatus.Ok ? findings : findings.Where(f => f.Status != CheckStatus.Ok);
        return new CheckResult(Name, status, string.Join("; ", shown.Select(f => f.Message)));
    }

    internal static (CheckStatus Status, string Message) EvaluateDisk(SmartReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Json is null)
        {
            return (CheckStatus.Unknown, $"{report.Device}: {report.Error ?? "no smartctl output"}");
        }

        try
        {
            using var document = JsonDocument.Parse(report.Json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (CheckStatus.Unknown, $"{report.Device}: smartctl output is not a JSON object");
            }

            if (!root.TryGetProperty("smart_status", out var smartStatus) || !smartStatus.TryGetProperty("passed", out var passed) || passed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (CheckStatus.Unknown, $"{report.Device}: no SMART status ({SmartctlMessage(root) ?? "device does not support SMART"})");
            }

            if (!passed.GetBoolean())
            {
                return (CheckStatus.Critical, $"{report.Device}: SMART overall-health self-assessment FAILED");
            }

            var critical = new List<string>();
            var warning = new List<string>();
            if (root.TryGetProperty("ata_smart_attributes", out var ata) && ata.TryGetProperty("table", out var table) && table.ValueKind == JsonValueKind.Array)
            {
                foreach (var attribute in table.EnumerateArray())
                {
                    var id = Int(attribute, "id");
                    var name = attribute.TryGetProperty("name", out var n) ? n.GetString() : $"attribute {id}";
                    if (attribute.TryGetProperty("when_failed", out var whenFailed) && whenFailed.GetString() == "now")
                    {
                        critical.Add($"{name} failing now");
                    }

                    if (id is 5 or 197 or 198 && attribute.TryGetProperty("raw", out var raw) && Int(raw, "value") is > 0 and var count)
                    {
                        warning.Add($"{name} = {count}");
                    }
                }
            }

            if (Int(root, "scsi_grown_defect_list") is > 0 and var grown)
            {
                warning.Add($"SCSI grown defect list = {grown}");
            }

            if (root.TryGetProperty("nvme_smart_health_information_log", out var nvme) && nvme.ValueKind == JsonValueKind.Object)
            {
                if (Int(nvme, "critical_warning") is > 0 and var flags)
                {
                    critical.Add($"NVMe critical_warning 0x{flags:x2}");
                }

                if (Int(nvme, "available_spare") is { } spare && Int(nvme, "available_spare_threshold") is { } spareThreshold && spare < spareThreshold)
                {
                    critical.Add($"NVMe available spare {spare}% below threshold {spareThreshold}%");
                }

                if (Int(nvme, "media_errors") is > 0 and var media)
                {
                    warning.Add($"NVMe media errors = {media}");
                }

                if (Int(nvme, "percentage_used") is >= 90 and var used)
                {
                    warning.Add($"NVMe wear {used}% of rated endurance used");
                }
            }

            if (critical.Count > 0)
            {
                return (CheckStatus.Critical, $"{report.Device}: {string.Join(", ", critical.Concat(warning))}");
            }

            return warning.Count > 0
                ? (CheckStatus.Warning, $"{report.Device}: {string.Join(", ", warning)}")
                : (CheckStatus.Ok, $"{report.Device}: SMART passed");
        }
        catch (JsonException)
        {
            return (CheckStatus.Unknown, $"{report.Device}: smartctl output is not JSON (smartmontools older than 7.0?)");
        }
    }

    private static long? Int(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static string? SmartctlMessage(JsonElement root) =>
        root.TryGetProperty("smartctl", out var smartctl) && smartctl.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
            ? messages.EnumerateArray().Select(m => m.TryGetProperty("string", out var s) ? s.GetString() : null).FirstOrDefault(s => s is not null)
            : null;
}
