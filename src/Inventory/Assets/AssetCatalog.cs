using System.Collections.Concurrent;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Assets;

/// <summary>
/// A read cache of the asset store's etcd keys — asset metadata (<c>assets/</c>), who holds which content
/// (<c>assets-on/</c>) and the live boot servers (<c>servers/</c>) — fed by one watch stream with one watch per
/// area, each resumed from its own last revision and reloaded when etcd has compacted past it (as
/// <see cref="InventoryCache"/> does for the inventory). Kept apart from the inventory cache so DHCP and iPXE
/// never pay for it.
/// </summary>
public sealed partial class AssetCatalog : BackgroundService
{
    private readonly EtcdStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<AssetCatalog> _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string[] _ranges;
    private readonly long[] _revisions;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile State _state = new();

    public AssetCatalog(EtcdStore store, TimeProvider time, ILogger<AssetCatalog> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        var keys = store.Keys;
        _ranges = [keys.Prefix + "assets", keys.ServersPrefix]; // "assets" covers both assets/ and assets-on/
        _revisions = new long[_ranges.Length];
    }

    private EtcdKeys Keys => _store.Keys;

    /// <summary>Completes once the first snapshot is loaded.</summary>
    public Task WhenReady => _ready.Task;

    /// <summary>Completes at the next applied change (or reload); take it before reading, then await it.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>The revision up to which asset metadata and holders are applied.</summary>
    public long AssetRevision => Volatile.Read(ref _revisions[0]);

    public AssetInfo? Get(string name) => _state.Assets.GetValueOrDefault(name);

    public IEnumerable<AssetInfo> Assets => _state.Assets.Values;

    public IEnumerable<BootServerRecord> Servers => _state.Servers.Values;

    public BootServerRecord? Server(string id) => _state.Servers.GetValueOrDefault(id);

    /// <summary>True when some asset's content is <paramref name="sha256"/>.</summary>
    public bool IsReferenced(string sha256) => _state.Assets.Values.Any(a => a.Sha256 == sha256);

    /// <summary>The live servers (registered, with a lease) that announce they hold <paramref name="sha256"/>.</summary>
    public IReadOnlyList<BootServerRecord> HoldersOf(string sha256)
    {
        var state = _state;
        if (!state.Holders.TryGetValue(sha256, out var ids))
        {
            return [];
        }

        return ids.Keys.Select(id => state.Servers.GetValueOrDefault(id)).Where(s => s is not null).Select(s => s!).ToList();
    }

    /// <summary>Whether <paramref name="serverId"/> announces it holds <paramref name="sha256"/>.</summary>
    public bool Holds(string serverId, string sha256) =>
        _state.Holders.TryGetValue(sha256, out var ids) && ids.ContainsKey(serverId);

    /// <summary>Waits until the catalog is loaded, at most <paramref name="timeout"/>; a server that cannot read etcd cannot answer.</summary>
    public async Task EnsureReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_ready.Task.IsCompleted)
        {
            return;
        }

        try
        {
            await _ready.Task.WaitAsync(timeout, _time, ct);
        }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException("the asset catalog is not loaded yet: etcd has not answered", e);
        }
    }

    /// <summary>Read-your-writes: waits (bounded) until asset metadata up to <paramref name="revision"/> is applied.</summary>
    public async Task<bool> WaitForAssetRevisionAsync(long revision, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            while (AssetRevision < revision)
            {
                var next = NextChange;
                if (AssetRevision >= revision)
                {
                    break;
                }

                await next.WaitAsync(cts.Token);
            }

            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var needLoad = true;
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (needLoad)
                {
                    await LoadAsync(stoppingToken);
                    needLoad = false;
                }

                needLoad = await WatchAsync(() => backoff = TimeSpan.FromMilliseconds(100), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or StoreUnavailableException or IOException or InvalidOperationException)
            {
                LogWatchFailed(AssetRevision, backoff.TotalMilliseconds, e.Message);
                try
                {
                    await Task.Delay(backoff, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var state = new State();
        long revision = 0;
        foreach (var range in _ranges)
        {
            var (kvs, rev) = await _store.RangeAllAsync(range, revision, ct);
            revision = rev;
            foreach (var kv in kvs)
            {
                Apply(state, kv, deleted: false);
            }
        }

        _state = state;
        for (var i = 0; i < _revisions.Length; i++)
        {
            Volatile.Write(ref _revisions[i], revision);
        }

        LogLoaded(state.Assets.Count, state.Servers.Count, revision);
        _ready.TrySetResult();
        Signal();
    }

    /// <summary>Runs one watch stream; returns true when a fresh snapshot is needed (compaction).</summary>
    private async Task<bool> WatchAsync(Action onHealthy, CancellationToken ct)
    {
        using var call = _store.OpenWatch(ct);
        var rangeOfWatch = new Dictionary<long, int>();
        var pending = new Queue<int>();
        for (var i = 0; i < _ranges.Length; i++)
        {
            // Creates are answered in order, so the n-th "created" names the n-th range's watch id.
            pending.Enqueue(i);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = ByteString.CopyFromUtf8(_ranges[i]),
                    RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(_ranges[i])),
                    StartRevision = Volatile.Read(ref _revisions[i]) + 1,
                },
            }, ct);
        }

        while (await call.ResponseStream.MoveNext(ct))
        {
            var response = call.ResponseStream.Current;
            if (response.CompactRevision > 0)
            {
                return true;
            }

            if (response.Canceled)
            {
                throw new InvalidOperationException($"etcd canceled the asset watch: {response.CancelReason}");
            }

            if (response.Created && pending.Count > 0)
            {
                rangeOfWatch[response.WatchId] = pending.Dequeue();
                if (pending.Count == 0)
                {
                    onHealthy();
                }
            }

            if (response.Events.Count == 0 || !rangeOfWatch.TryGetValue(response.WatchId, out var index))
            {
                continue;
            }

            var state = _state;
            long last = 0;
            foreach (var ev in response.Events)
            {
                Apply(state, ev.Kv, ev.Type == Mvccpb.Event.Types.EventType.Delete);
                last = ev.Kv.ModRevision;
            }

            if (last > Volatile.Read(ref _revisions[index]))
            {
                Volatile.Write(ref _revisions[index], last);
            }

            Signal();
        }

        throw new InvalidOperationException("etcd closed the asset watch stream");
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void Apply(State state, Mvccpb.KeyValue kv, bool deleted)
    {
        var key = kv.Key.ToStringUtf8();
        try
        {
            if (key.StartsWith(Keys.AssetsPrefix, StringComparison.Ordinal))
            {
                var name = key[Keys.AssetsPrefix.Length..];
                if (deleted)
                {
                    state.Assets.TryRemove(name, out _);
                }
                else
                {
                    state.Assets[name] = InventoryJson.FromBytes<AssetInfo>(kv.Value) with { Revision = kv.ModRevision };
                }
            }
            else if (key.StartsWith(Keys.AssetHoldersPrefix, StringComparison.Ordinal))
            {
                var rest = key[Keys.AssetHoldersPrefix.Length..];
                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0)
                {
                    var (server, sha) = (rest[..slash], rest[(slash + 1)..]);
                    if (deleted)
                    {
                        if (state.Holders.TryGetValue(sha, out var ids))
                        {
                            ids.TryRemove(server, out _);
                        }
                    }
                    else
                    {
                        state.Holders.GetOrAdd(sha, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[server] = 0;
                    }
                }
            }
            else if (key.StartsWith(Keys.ServersPrefix, StringComparison.Ordinal))
            {
                var id = key[Keys.ServersPrefix.Length..];
                if (deleted)
                {
                    state.Servers.TryRemove(id, out _);
                }
                else
                {
                    state.Servers[id] = InventoryJson.FromBytes<BootServerRecord>(kv.Value);
                }
            }
        }
        catch (JsonException e)
        {
            LogBadValue(key, kv.ModRevision, e.Message);
        }
    }

    private sealed class State
    {
        public ConcurrentDictionary<string, AssetInfo> Assets { get; } = new(StringComparer.Ordinal);

        /// <summary>sha256 → ids of the servers announcing they hold it.</summary>
        public ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> Holders { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, BootServerRecord> Servers { get; } = new(StringComparer.Ordinal);
    }

    [LoggerMessage(EventIds.AssetCatalogLoaded, LogLevel.Information, "Asset catalog loaded {Assets} assets and {Servers} boot servers at revision {Revision}")]
    private partial void LogLoaded(int assets, int servers, long revision);

    [LoggerMessage(EventIds.AssetWatchFailed, LogLevel.Warning, "etcd asset watch failed at revision {Revision}; retrying in {DelayMs} ms: {Reason}")]
    private partial void LogWatchFailed(long revision, double delayMs, string reason);

    [LoggerMessage(EventIds.AssetBadValue, LogLevel.Error, "Ignoring unreadable value of {Key} at revision {Revision}: {Reason}")]
    private partial void LogBadValue(string key, long revision, string reason);
}
