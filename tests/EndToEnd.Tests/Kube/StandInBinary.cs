using System.Diagnostics;
using System.Globalization;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// nekko-kube-standin, the TEST DOUBLE of the Kubernetes components (tests/KubeComponentStandIn), as the nodes run
/// it: the Native AOT executable of <c>dotnet publish -r linux-x64</c> (the test nodes have no .NET), published for
/// the versions it must report, cached in NEKKO_TEST_CACHE and published again when a source file is newer.
/// </summary>
public static class StandInBinary
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<string> GetAsync(string kubernetesVersion, string containerdVersion)
    {
        await Gate.WaitAsync();
        try
        {
            var source = Path.Combine(DiscoveryImage.RepoRoot, "tests", "KubeComponentStandIn");
            var cache = Path.Combine(Environment.GetEnvironmentVariable("NEKKO_TEST_CACHE") ?? "/var/tmp/nekkometal-tests",
                string.Create(CultureInfo.InvariantCulture, $"nekko-kube-standin-{kubernetesVersion}-{containerdVersion}"));
            var binary = new FileInfo(Path.Combine(cache, "nekko-kube-standin"));
            var newest = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                .Max(File.GetLastWriteTimeUtc);
            if (binary.Exists && binary.LastWriteTimeUtc > newest)
            {
                return binary.FullName;
            }

            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[]
            {
                "publish", source, "-c", "Release", "-r", "linux-x64", "-o", cache, "--nologo", "-v", "q",
                "-p:StandInKubernetesVersion=" + kubernetesVersion, "-p:StandInContainerdVersion=" + containerdVersion,
            })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var @out = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, $"publishing the stand-in failed: {@out}{await err}");
            File.SetLastWriteTimeUtc(binary.FullName, DateTime.UtcNow);
            return binary.FullName;
        }
        finally
        {
            Gate.Release();
        }
    }
}
