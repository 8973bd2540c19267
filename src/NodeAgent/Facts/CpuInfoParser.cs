namespace NekkoMetal.NodeAgent.Facts;

/// <summary>CPU model and topology from the text of /proc/cpuinfo (x86 and arm64 layouts). Pure.</summary>
internal static class CpuInfoParser
{
    public static CpuFacts? Parse(string? cpuinfo)
    {
        if (string.IsNullOrWhiteSpace(cpuinfo))
        {
            return null;
        }

        var threads = 0;
        string? vendor = null;
        string? model = null;
        string? hardware = null;
        var sockets = new HashSet<string>(StringComparer.Ordinal);
        var cores = new HashSet<(string, string)>();
        string? physicalId = null;
        string? coreId = null;

        void EndProcessor()
        {
            if (coreId is not null)
            {
                cores.Add((physicalId ?? "0", coreId));
            }

            physicalId = null;
            coreId = null;
        }

        foreach (var rawLine in cpuinfo.Split('\n'))
        {
            var colon = rawLine.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = rawLine[..colon].Trim();
            var value = rawLine[(colon + 1)..].Trim();
            switch (key)
            {
                case "processor":
                    EndProcessor();
                    threads++;
                    break;
                case "vendor_id" or "CPU implementer":
                    vendor ??= value.Length > 0 ? value : null;
                    break;
                case "model name" or "cpu model" or "Processor":
                    model ??= value.Length > 0 ? value : null;
                    break;
                case "Hardware":
                    hardware ??= value.Length > 0 ? value : null;
                    break;
                case "physical id":
                    physicalId = value;
                    sockets.Add(value);
                    break;
                case "core id":
                    coreId = value;
                    break;
            }
        }

        EndProcessor();
        if (threads == 0)
        {
            return null;
        }

        var socketCount = Math.Max(1, sockets.Count);
        var coreCount = cores.Count > 0 ? cores.Count : threads;
        return new CpuFacts(vendor, model ?? hardware, socketCount, coreCount, threads);
    }
}
