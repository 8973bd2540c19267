using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.EmbeddedEtcd;

/// <summary>
/// With no etcd endpoints configured, runs a single-member etcd (Debian's etcd binary) on loopback with its data
/// under <c>DATA_DIR/etcd</c>: starts it before anything needs it, restarts it if it dies, stops it (SIGTERM, then
/// SIGKILL) on shutdown, and kills a leftover one from a crashed run (found by its pid file).
/// </summary>
public sealed partial class EmbeddedEtcd : IHostedService, IDisposable
{
    private readonly BootServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EmbeddedEtcd> _logger;
    private readonly Queue<string> _lastLines = new();
    private readonly CancellationTokenSource _stopping = new();
    private Process? _process;
    private Task? _supervisor;

    public EmbeddedEtcd(IOptions<BootServerOptions> options, TimeProvider time, ILogger<EmbeddedEtcd> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public string ClientUrl => $"http://127.0.0.1:{_options.EmbeddedEtcdClientPort}";

    private string EtcdDir => Path.Combine(_options.DataDir, "etcd");

    private string PidFile => Path.Combine(EtcdDir, "etcd.pid");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.UsesEmbeddedEtcd)
        {
            LogExternal(string.Join(",", _options.EndpointList));
            return;
        }

        Directory.CreateDirectory(EtcdDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        KillLeftover();
        await StartProcessAsync(cancellationToken);
        _supervisor = SuperviseAsync(_stopping.Token);
    }

    private async Task StartProcessAsync(CancellationToken ct)
    {
        var psi = new ProcessStartInfo(_options.EtcdBinary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var peer = $"http://127.0.0.1:{_options.EmbeddedEtcdPeerPort}";
        foreach (var a in new[]
        {
            "--name", "nekko", "--data-dir", Path.Combine(EtcdDir, "data"),
            "--listen-client-urls", ClientUrl, "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"nekko={peer}",
            "--auto-compaction-mode", "revision", "--auto-compaction-retention", "100000",
            // etcd's recommended freelist (the default from 3.5 on): cheaper commits of many small keys (DHCP leases)
            "--experimental-backend-bbolt-freelist-type", "map",
            "--logger", "zap", "--log-level", "warn",
        })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {_options.EtcdBinary}");
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        await File.WriteAllTextAsync(PidFile, process.Id.ToString(CultureInfo.InvariantCulture), ct);
        LogStarting(process.Id, ClientUrl, EtcdDir);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"the embedded etcd exited with code {process.ExitCode} while starting (is port {_options.EmbeddedEtcdClientPort} or {_options.EmbeddedEtcdPeerPort} in use?); its last output:\n{LastOutput()}");
            }

            try
            {
                using var r = await http.GetAsync(new Uri(ClientUrl + "/health"), ct);
                if (r.IsSuccessStatusCode)
                {
                    LogReady(ClientUrl);
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct);
        }

        throw new TimeoutException($"the embedded etcd did not become healthy within 60 s; its last output:\n{LastOutput()}");
    }

    /// <summary>Restarts etcd when it dies, with back-off, until shutdown.</summary>
    private async Task SuperviseAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _process!.WaitForExitAsync(ct);
                LogDied(_process.ExitCode, LastOutput());
                await Task.Delay(backoff, _time, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                await StartProcessAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                LogRestartFailed(e.Message);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_supervisor is null)
        {
            return; // not embedded, or stopped already
        }

        await _stopping.CancelAsync();
        await _supervisor;
        _supervisor = null;

        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigTerm);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                await p.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
            }

            LogStopped();
        }

        try
        {
            File.Delete(PidFile);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An etcd left running by a crashed boot server holds the ports and the data: stop it first.</summary>
    private void KillLeftover()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (cmdline.Contains("etcd", StringComparison.Ordinal) && cmdline.Contains(EtcdDir, StringComparison.Ordinal))
            {
                using var old = Process.GetProcessById(pid);
                LogKillingLeftover(pid);
                old.Kill();
                old.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // no such process any more
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            while (_lastLines.Count > 30)
            {
                _lastLines.Dequeue();
            }
        }

        LogEtcdOutput(line);
    }

    private string LastOutput()
    {
        lock (_lastLines)
        {
            return string.Join('\n', _lastLines);
        }
    }

    public void Dispose()
    {
        _process?.Dispose();
        _stopping.Dispose();
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LoggerMessage(EventIds.EtcdExternal, LogLevel.Information, "Using the etcd cluster at {Endpoints}")]
    private partial void LogExternal(string endpoints);

    [LoggerMessage(EventIds.EtcdStarting, LogLevel.Information, "Starting the embedded etcd (pid {Pid}) at {Url} with data in {Dir}")]
    private partial void LogStarting(int pid, string url, string dir);

    [LoggerMessage(EventIds.EtcdReady, LogLevel.Information, "The embedded etcd is healthy at {Url}")]
    private partial void LogReady(string url);

    [LoggerMessage(EventIds.EtcdDied, LogLevel.Error, "The embedded etcd exited with code {Code}; restarting. Its last output:\n{Output}")]
    private partial void LogDied(int code, string output);

    [LoggerMessage(EventIds.EtcdRestartFailed, LogLevel.Error, "Restarting the embedded etcd failed: {Reason}")]
    private partial void LogRestartFailed(string reason);

    [LoggerMessage(EventIds.EtcdStopped, LogLevel.Information, "The embedded etcd stopped")]
    private partial void LogStopped();

    [LoggerMessage(EventIds.EtcdLeftover, LogLevel.Warning, "Stopping an embedded etcd left running by an earlier boot server (pid {Pid})")]
    private partial void LogKillingLeftover(int pid);

    [LoggerMessage(EventIds.EtcdOutput, LogLevel.Debug, "etcd: {Line}")]
    private partial void LogEtcdOutput(string line);
}
