using System.Diagnostics;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// The discovery image built by the project's own script (discovery/build.sh, Debian's cloud kernel: LZ4 and
/// virtio, fast under qemu without KVM), cached between runs and rebuilt when the script or init change.
/// </summary>
public static class DiscoveryImage
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NekkoMetal.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root from " + AppContext.BaseDirectory);
        }
    }

    public static async Task<string> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            var source = Path.Combine(RepoRoot, "discovery");
            var cache = Path.Combine(Environment.GetEnvironmentVariable("NEKKO_TEST_CACHE") ?? "/var/tmp/nekkometal-tests", "discovery-cloud");
            var initrd = new FileInfo(Path.Combine(cache, "initrd.img"));
            var newest = Directory.EnumerateFiles(source).Max(File.GetLastWriteTimeUtc);
            if (initrd.Exists && initrd.LastWriteTimeUtc > newest && File.Exists(Path.Combine(cache, "vmlinuz")))
            {
                return cache;
            }

            var psi = new ProcessStartInfo(Path.Combine(source, "build.sh")) { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(cache);
            psi.ArgumentList.Add("cloud");
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, "discovery/build.sh failed: " + await err);
            return cache;
        }
        finally
        {
            Gate.Release();
        }
    }
}
