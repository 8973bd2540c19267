namespace NekkoMetal.Bench;

/// <summary>Where the repository, the boot server build and the results folder are, seen from this build's output.</summary>
internal static class RepoPaths
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The folder holding NekkoMetal.sln above this program, or null when run from elsewhere.</summary>
    public static string? Root { get; } = FindRoot();

    private static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NekkoMetal.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>
    /// The boot server to run: the one given, else the repo's build of the same configuration as this program,
    /// else the other configuration's (with a warning, since a Debug server is slower).
    /// </summary>
    public static string BootServerDll(string? given, TextWriter warnings)
    {
        if (!string.IsNullOrEmpty(given))
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"no boot server at '{given}'", given);
        }

        if (Root is null)
        {
            throw new InvalidOperationException("cannot find the repository (NekkoMetal.sln) above this program: pass --bootserver");
        }

        var other = Configuration == "Release" ? "Debug" : "Release";
        foreach (var config in new[] { Configuration, other })
        {
            var dll = Path.Combine(Root, "src", "BootServer", "bin", config, "net10.0", "nekko-bootserver.dll");
            if (File.Exists(dll))
            {
                if (config != Configuration)
                {
                    warnings.WriteLine($"warning: no {Configuration} build of the boot server; using the {config} build {dll}");
                }

                return dll;
            }
        }

        throw new FileNotFoundException(
            $"no nekko-bootserver.dll under {Path.Combine(Root, "src", "BootServer", "bin")}: build src/BootServer or pass --bootserver");
    }

    /// <summary>The configuration a boot server dll was built in, from its path (bin/Release/… or bin/Debug/…).</summary>
    public static string ConfigurationOf(string dll)
    {
        var parts = Path.GetFullPath(dll).Split(Path.DirectorySeparatorChar);
        return parts.Contains("Release") ? "Release" : parts.Contains("Debug") ? "Debug" : "unknown";
    }

    public static string ResultsDirectory(string? given) =>
        given ?? Path.Combine(Root ?? Directory.GetCurrentDirectory(), "bench", "results");
}
