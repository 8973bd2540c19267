using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

/// <summary>The captured and hand-written machine trees under Fixtures/ (see Fixtures/README.md), read in place from the source tree.</summary>
internal static class Fixtures
{
    public const string FirecrackerVm = "firecracker-vm";
    public const string QemuVm = "qemu-vm";
    public const string Laptop = "laptop";
    public const string MiniPc = "mini-pc";
    public const string Server = "server";

    public static readonly string[] Machines = [FirecrackerVm, QemuVm, Laptop, MiniPc, Server];

    public static TheoryData<string> All => new(Machines);

    public static string Directory { get; } = FindDirectory();

    public static HostRoot Host(string machine) => new(Path.Join(Directory, machine));

    /// <summary>A captured command output (Fixtures/&lt;machine&gt;/commands/&lt;name&gt;), or null when that machine has none.</summary>
    public static string? Command(string machine, string name)
    {
        var path = Path.Join(Directory, machine, "commands", name);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    public static NodeFacts Facts(string machine) => new FactCollector(Host(machine)).Collect(Command(machine, "ip-link.json"));

    public static HealthThresholds Defaults => new();

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Join(dir.FullName, "tests", "NodeAgent.Tests", "Fixtures");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }

            if (File.Exists(Path.Join(dir.FullName, "NodeAgent.Tests.csproj")))
            {
                return Path.Join(dir.FullName, "Fixtures");
            }
        }

        throw new InvalidOperationException("tests/NodeAgent.Tests/Fixtures not found above " + AppContext.BaseDirectory);
    }
}
