using System.Diagnostics;
using System.Text;
using System.Text.Json;
using NekkoMetal.TestKit;

namespace NekkoMetal.EndToEnd.Tests.Dhcp;

/// <summary>
/// One etcd (Debian's etcd-server, as <see cref="EtcdServer"/> runs it) in the segment's namespace, listening on
/// the bridge address so every member namespace reaches it: the one etcd that several boot servers share.
/// Temporary data directory, removed on dispose.
/// </summary>
internal sealed class SegmentEtcd : IAsyncDisposable
{
    private const int ClientPort = 2379;
    private readonly BroadcastSegment _segment;
    private readonly Process _process;
    private readonly StringBuilder _log;
    private readonly string _dataDir;

    private SegmentEtcd(BroadcastSegment segment, Process process, StringBuilder log, string dataDir)
    {
        _segment = segment;
        _process = process;
        _log = log;
        _dataDir = dataDir;
    }

    public string Endpoint => $"http://{_segment.BridgeAddress}:{ClientPort}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<SegmentEtcd> StartAsync(BroadcastSegment segment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var dataDir = Directory.CreateTempSubdirectory("nekko-seg-etcd-").FullName;
        var client = $"http://{segment.BridgeAddress}:{ClientPort}";
        const string Peer = "http://127.0.0.1:2380"; // the segment namespace's own loopback
        var log = new StringBuilder();
        var process = BroadcastSegment.Start(segment.Name, log, new Dictionary<string, string> { ["ETCD_UNSUPPORTED_ARCH"] = "" },
            EtcdServer.Binary, "--name", "segment", "--data-dir", Path.Combine(dataDir, "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", Peer, "--initial-advertise-peer-urls", Peer, "--initial-cluster", "segment=" + Peer,
            "--log-level", "error", "--logger", "zap");
        var etcd = new SegmentEtcd(segment, process, log, dataDir);
        try
        {
            await etcd.WaitHealthyAsync(ct);
            return etcd;
        }
        catch
        {
            await etcd.DisposeAsync();
            throw;
        }
    }

    private async Task WaitHealthyAsync(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, "etcd exited during start:\n" + Log);
            try
            {
                await _segment.ExecAsync(null, "curl", "-sf", "-o", "/dev/null", Endpoint + "/health");
                return;
            }
            catch (InvalidOperationException)
            {
            }

            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "etcd did not become healthy within 30 s:\n" + Log);
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Every key under <paramref name="prefix"/> with its value, read with etcdctl from the segment namespace.</summary>
    public async Task<IReadOnlyList<(string Key, byte[] Value)>> GetPrefixAsync(string prefix)
    {
        var json = await _segment.ExecAsync(null, "env", "ETCDCTL_API=3", "etcdctl", "--endpoints", Endpoint, "get", "--prefix", prefix, "-w", "json");
        var root = JsonDocument.Parse(json).RootElement;
        if (!root.TryGetProperty("kvs", out var kvs))
        {
            return [];
        }

        return [.. kvs.EnumerateArray().Select(kv => (
            Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!)),
            Convert.FromBase64String(kv.GetProperty("value").GetString()!)))];
    }

    /// <summary>Every revision of <paramref name="key"/> still in etcd's history (a watch from revision 1, stopped after 2 s).</summary>
    public async Task<string> HistoryAsync(string key) =>
        await _segment.ExecAsync(null, "sh", "-c", $"ETCDCTL_API=3 timeout 2 etcdctl --endpoints {Endpoint} watch --rev=1 '{key}'; true");

    public async ValueTask DisposeAsync()
    {
        await BroadcastSegment.StopAsync(_process, TimeSpan.FromSeconds(10));
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
