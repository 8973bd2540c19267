using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace NekkoMetal.TestKit;

/// <summary>
/// A real etcd (Debian's etcd-server) on loopback high ports with a temporary data directory.
/// Tests share one through <see cref="EtcdFixture"/> and isolate themselves by key prefix;
/// tests that restart or compact etcd start their own.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private Process? _process;
    private readonly string _dataDir;

    private EtcdServer(string dataDir, int clientPort, int peerPort)
    {
        _dataDir = dataDir;
        ClientPort = clientPort;
        PeerPort = peerPort;
    }

    public int ClientPort { get; }
    public int PeerPort { get; }
    public string Endpoint => $"http://127.0.0.1:{ClientPort}";

    public static string Binary =>
        new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "etcd is not installed: the tests need Debian's etcd-server package (run scripts/test.sh, which installs it, or apt-get install etcd-server)");

    public static async Task<EtcdServer> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("nekko-etcd-").FullName;
        var server = new EtcdServer(dir, FreePort(), FreePort());
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Starts (again) on the same ports and data directory.</summary>
    public async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--name", "test", "--data-dir", Path.Combine(_dataDir, "data"),
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", $"http://127.0.0.1:{PeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{PeerPort}",
            "--initial-cluster", $"test=http://127.0.0.1:{PeerPort}", "--log-level", "error", "--logger", "zap",
        })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ETCD_UNSUPPORTED_ARCH"] = "";
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start etcd");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitReadyAsync();
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with code {_process.ExitCode} during start");
            }

            try
            {
                var r = await http.GetAsync(Endpoint + "/health");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("etcd did not become healthy within 30 s");
    }

    public async Task StopProcessAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A free loopback TCP port (bound and released; the kernel will not hand it out again soon).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>One etcd shared by a test collection; each test takes its own prefix from <see cref="NewPrefix"/>.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public EtcdServer Server { get; private set; } = null!;

    public string Endpoint => Server.Endpoint;

    public static string NewPrefix() => $"/test-{Guid.NewGuid():N}/";

    public async Task InitializeAsync() => Server = await EtcdServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
