namespace NekkoMetal.NodeAgent.Facts;

/// <summary>Memory sizes from the text of /proc/meminfo ("MemTotal:       24683620 kB"). Pure.</summary>
internal static class MemInfoParser
{
    public static MemoryFacts? Parse(string? meminfo)
    {
        var values = ParseKilobytes(meminfo);
        return values.TryGetValue("MemTotal", out var total)
            ? new MemoryFacts(total, values.TryGetValue("MemAvailable", out var available) ? available : null, values.TryGetValue("SwapTotal", out var swap) ? swap : null)
            : null;
    }

    /// <summary>Each "Key: value kB" line as bytes; lines without a unit are taken as plain counts (HugePages_Total).</summary>
    internal static Dictionary<string, long> ParseKilobytes(string? meminfo)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        if (meminfo is null)
        {
            return values;
        }

        foreach (var line in meminfo.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var parts = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !long.TryParse(parts[0], out var number) || number < 0)
            {
                continue;
            }

            var multiplier = parts.Length > 1 && parts[1] == "kB" ? 1024L : 1L;
            if (number > long.MaxValue / multiplier)
            {
                continue;
            }

            values[line[..colon].Trim()] = number * multiplier;
        }

        return values;
    }
}
