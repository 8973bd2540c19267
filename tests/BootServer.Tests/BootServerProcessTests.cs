using System.Diagnostics;
using System.Globalization;
using NekkoMetal.Cli;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// The real nekko-bootserver process with its embedded etcd (Debian's binary), as a user starts it: register
/// with nekkoctl, stop and restart — the data survives; after a crash the leftover etcd is found and replaced.
/// </summary>
public sealed class BootServerProcessTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("nekko-proc-").FullName;
    private readonly int _httpPort = EtcdServer.FreePort();
    private readonly int _clientPort = EtcdServer.FreePort();
    private readonly int _peerPort = EtcdServer.FreePort();
    private readonly StringWriter _log = new();
    private BootServerProcess? _server;

    private string Url => $"http://127.0.0.1:{_httpPort}";

    private async Task StartAsync() =>
        _server = await BootServerProcess.StartAsync(Url, _log,
            "--data-dir", _dataDir, "--http-url", Url,
            "--embedded-etcd-client-port", _clientPort.ToString(CultureInfo.InvariantCulture),
            "--embedded-etcd-peer-port", _peerPort.ToString(CultureInfo.InvariantCulture),
            "--tftp-port", "0");

    private async Task StopAsync(bool crash)
    {
        await _server!.StopAsync(crash);
        _server.Dispose();
        _server = null;
    }

    private string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    private int? EtcdPid() =>
        File.Exists(Path.Combine(_dataDir, "etcd", "etcd.pid"))
            ? int.Parse(File.ReadAllText(Path.Combine(_dataDir, "etcd", "etcd.pid")), CultureInfo.InvariantCulture)
            : null;

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private async Task<(int Code, string Out, string Err)> Nekkoctl(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var env = new Dictionary<string, string?> { ["NEKKO_SERVER"] = _server!.HttpsUrl, ["NEKKO_DATA_DIR"] = _dataDir };
        var code = await CliApp.RunAsync(args, null, stdout, stderr, env);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task EmbeddedEtcd_KeepsMachinesAcrossRestart_AndSurvivesACrash()
    {
        await StartAsync();
        Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(Path.Combine(_dataDir, "admin.token")), 8));
        var add = await Nekkoctl("machines", "add", "MINIPC-7", "--mac", "52:54:00:30:00:07");
        Assert.True(add.Code == 0, add.Err + Log());
        Assert.Contains("10.69.0.1", (await Nekkoctl("machines", "list")).Out);

        var etcdPid = EtcdPid()!.Value;
        await StopAsync(crash: false);
        Assert.False(Alive(etcdPid), "SIGTERM to the boot server must stop its etcd");

        await StartAsync();
        var list = await Nekkoctl("machines", "list");
        Assert.Contains("MINIPC-7", list.Out);
        Assert.Contains("10.69.0.1", list.Out);

        etcdPid = EtcdPid()!.Value;
        await StopAsync(crash: true);
        Assert.True(Alive(etcdPid)); // orphaned by the crash
        await StartAsync();
        Assert.False(Alive(etcdPid), "the leftover etcd must be stopped by the next start");
        Assert.Contains("left running by an earlier boot server", Log());
        Assert.Contains("MINIPC-7", (await Nekkoctl("machines", "list")).Out);
        await StopAsync(crash: false);
    }

    public void Dispose()
    {
        _server?.Dispose();

        if (EtcdPid() is { } pid && Alive(pid))
        {
            Process.GetProcessById(pid).Kill();
        }

        _log.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
