using System.Globalization;

namespace NekkoMetal.AgentLoad;

/// <summary>CPU time from /proc, in clock ticks (USER_HZ = 100): a process tree's, the machine's busy time.</summary>
internal static class ProcTree
{
    public const double TicksPerSecond = 100;

    /// <summary>utime + stime + cutime + cstime of <paramref name="pid"/> and every live descendant (all threads), as bench/lib.sh's tree_ticks.</summary>
    public static long TreeTicks(int pid)
    {
        long sum = 0;
        foreach (var p in Descendants(pid))
        {
            sum += Ticks(p);
        }

        return sum;
    }

    /// <summary>Number of processes in the tree (the boot server and its etcd: 2).</summary>
    public static int TreeSize(int pid) => Descendants(pid).Count;

    /// <summary>user + nice + system of all cores (first line of /proc/stat).</summary>
    public static long SystemBusyTicks()
    {
        var first = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(first[1], CultureInfo.InvariantCulture) + long.Parse(first[2], CultureInfo.InvariantCulture)
            + long.Parse(first[3], CultureInfo.InvariantCulture);
    }

    /// <summary>utime + stime + cutime + cstime of <paramref name="pid"/> alone (all its threads).</summary>
    public static long Ticks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
                + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static List<int> Descendants(int root)
    {
        var all = new List<int>();
        var todo = new Stack<int>();
        todo.Push(root);
        while (todo.Count > 0)
        {
            var p = todo.Pop();
            if (!Directory.Exists($"/proc/{p}"))
            {
                continue;
            }

            all.Add(p);
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    var children = File.ReadAllText(Path.Combine(task, "children"));
                    foreach (var c in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        todo.Push(int.Parse(c, CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        return all;
    }
}
