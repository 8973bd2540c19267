using System.Diagnostics;

namespace NekkoMetal.Tftp.Tests.Infrastructure;

/// <summary>Runs a real TFTP client binary (curl, atftp) with a deadline. A missing binary fails the test and names its Debian package.</summary>
public static class ExternalClient
{
    public static string Require(string binary, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"'{binary}' is not installed: these tests need Debian's {debianPackage} package (apt-get install -y {debianPackage}).");
        return "";
    }

    public static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunAsync(string binary, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(binary)} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }

        stopwatch.Stop();
        return (process.ExitCode, await stdout + await stderr, stopwatch.Elapsed);
    }
}
