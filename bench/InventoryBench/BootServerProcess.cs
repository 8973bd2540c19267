using System.Diagnostics;
using NekkoMetal.TestKit;

namespace NekkoMetal.Bench;

/// <summary>
/// nekko-bootserver as a child process against a given etcd, on a free loopback port, with a temporary data
/// directory; its output goes to a log file there. Stopped with SIGTERM (graceful), killed only if that hangs.
/// </summary>
internal sealed class BootServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;
    private readonly StreamWriter _log;

    private BootServerProcess(Process process, string dataDir, StreamWriter log, Uri baseAddress)
    {
        _process = process;
        _dataDir = dataDir;
        _log = log;
        BaseAddress = baseAddress;
    }

    /// <summary>Plain HTTP: /health (the API is HTTPS only).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The API over HTTPS; its certificate chains to DATA_DIR/ca.pem (<see cref="CaCertificates"/>).</summary>
    public Uri ApiAddress { get; private set; } = null!;

    /// <summary>DATA_DIR/ca.pem, read once the server is ready.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection CaCertificates { get; private set; } = [];

    public int Pid => _process.Id;

    /// <summary>The admin token the server wrote to DATA_DIR/admin.token on its first start.</summary>
    public string Token { get; private set; } = "";

    public static async Task<BootServerProcess> StartAsync(string dll, string etcdEndpoint, string prefix, CancellationToken ct)
    {
        var dataDir = Directory.CreateTempSubdirectory("nekko-bench-bootserver-").FullName;
        var url = $"http://127.0.0.1:{EtcdServer.FreePort()}";
        var httpsUrl = $"https://127.0.0.1:{EtcdServer.FreePort()}";
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "--data-dir", dataDir, "--http-url", url, "--https-url", httpsUrl, "--etcd-endpoints", etcdEndpoint, "--etcd-prefix", prefix, "--tftp-port", "0" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var log = new StreamWriter(Path.Combine(dataDir, "bootserver.log")) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start nekko-bootserver");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new BootServerProcess(process, dataDir, log, new Uri(url)) { ApiAddress = new Uri(httpsUrl) };
        try
        {
            await server.WaitReadyAsync(ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // a last line after the server was stopped and the log closed
            }
        }
    }

    /// <summary>The dotnet host running this program (so the server runs on the same runtime), else dotnet on PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(3) };
        var tokenFile = Path.Combine(_dataDir, "admin.token");
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nekko-bootserver exited with code {_process.ExitCode} during start:\n{LogTail()}");
            }

            try
            {
                using var r = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), ct);
                if (r.IsSuccessStatusCode && File.Exists(tokenFile))
                {
                    Token = (await File.ReadAllTextAsync(tokenFile, ct)).Trim();
                    CaCertificates = BootServerTrust.CaCertificates(_dataDir);
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"nekko-bootserver was not ready within 60 s:\n{LogTail()}");
    }

    public string LogTail(int lines = 30)
    {
        lock (_log)
        {
            try
            {
                using var read = new FileStream(Path.Combine(_dataDir, "bootserver.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(read);
                return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines));
            }
            catch (IOException e)
            {
                return $"(no log: {e.Message})";
            }
        }
    }

    /// <summary>SIGTERM, then up to 15 s for a graceful exit; killed after that. Returns the exit code, or null if killed.</summary>
    public async Task<int?> StopAsync()
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync();
            }
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
