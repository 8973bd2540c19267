using System.Globalization;

namespace NekkoMetal.Bench;

/// <summary>CPU time of a process and machine load, from /proc (Linux only; null or empty elsewhere).</summary>
internal static class ProcessCpu
{
    /// <summary>USER_HZ: the unit of the times in /proc/PID/stat; 100 on every Linux build in practice.</summary>
    private const double ClockTicksPerSecond = 100;

    /// <summary>User + system CPU of <paramref name="pid"/> (all its threads), or null when it cannot be read.</summary>
    public static TimeSpan? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The process whose command line holds <paramref name="arg"/> followed by <paramref name="value"/>, if one does.</summary>
    public static int? FindByArgument(string arg, string value)
    {
        var needle = arg + "\0" + value + "\0";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(needle, StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    /// <summary>The three load averages of /proc/loadavg (1, 5, 15 minutes), or empty.</summary>
    public static double[] LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3)
                .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }
}
