using System.Diagnostics;

namespace NekkoMetal.EndToEnd.Tests.Nodes;

/// <summary>
/// The node agent as it is deployed: the Native AOT executable of <c>dotnet publish src/NodeAgent -r linux-x64</c>
/// (the test nodes have no .NET), cached in NEKKO_TEST_CACHE and published again when a source file is newer.
/// </summary>
public static class AgentBinary
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<string> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            var source = Path.Combine(DiscoveryImage.RepoRoot, "src", "NodeAgent");
            var cache = Path.Combine(Environment.GetEnvironmentVariable("NEKKO_TEST_CACHE") ?? "/var/tmp/nekkometal-tests", "nekko-agent");
            var binary = new FileInfo(Path.Combine(cache, "nekko-agent"));
            var newest = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                .Max(File.GetLastWriteTimeUtc);
            if (binary.Exists && binary.LastWriteTimeUtc > newest)
            {
                return binary.FullName;
            }

            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "publish", source, "-c", "Release", "-r", "linux-x64", "-o", cache, "--nologo", "-v", "q" })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var @out = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, $"publishing the agent failed: {@out}{await err}");
            File.SetLastWriteTimeUtc(binary.FullName, DateTime.UtcNow);
            return binary.FullName;
        }
        finally
        {
            Gate.Release();
        }
    }
}
