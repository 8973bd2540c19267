using System.Collections.Concurrent;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.Inventory.Storage;

/// <summary>
/// A read cache of everything under the prefix except the audit log, fed by one etcd watch.
/// It loads a consistent snapshot (all pages at one revision), then watches from the next revision; when the
/// watch breaks (etcd restart, network) it resumes from the last applied revision, and when etcd has compacted
/// past that revision it loads a fresh snapshot. Reads on hot paths (API, DHCP, iPXE) come from here.
/// </summary>
public sealed partial class InventoryCache : BackgroundService
{
    private readonly EtcdStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<InventoryCache> _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile CacheState _state = new();
    private long _revision;
    private int _loads;
    private int _resumes;
    private volatile bool _watching;

    public InventoryCache(EtcdStore store, TimeProvider time, ILogger<InventoryCache> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The etcd revision up to which every change is applied.</summary>
    public long Revision => Volatile.Read(ref _revision);

    /// <summary>Completes once the first snapshot is loaded.</summary>
    public Task WhenReady => _ready.Task;

    /// <summary>True while the watch stream is established.</summary>
    public bool IsWatching => _watching;

    /// <summary>How many snapshots were loaded (1 + one per compaction recovery).</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>How many times the watch was resumed after a failure.</summary>
    public int Resumes => Volatile.Read(ref _resumes);

    public int? SchemaVersion => _state.SchemaVersion;

    public IpamConfig Ipam => _state.Ipam;

    public IReadOnlyList<ResolvedSubnet> Subnets => _state.Subnets;

    public int MachineCount => _state.Machines.Count;

    public Machine? GetMachine(string serial) => _state.Machines.GetValueOrDefault(serial);

    public IEnumerable<Machine> Machines => _state.Machines.Values;

    /// <summary>
    /// The serials that may match <paramref name="query"/>, from the smallest index that applies (role, state or one
    /// label), or null when the query names none of them. Callers still check every criterion.
    /// </summary>
    public IEnumerable<string>? Candidates(MachineQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var state = _state;
        ICollection<string>? best = null;
        void Consider(string indexKey)
        {
            var set = state.Index.TryGetValue(indexKey, out var s) ? (ICollection<string>)s.Keys : [];
            if (best is null || set.Count < best.Count)
            {
                best = set;
            }
        }

        if (query.Role is not null)
        {
            Consider(IndexKey.Role(query.Role));
        }

        if (query.State is { } st)
        {
            Consider(IndexKey.State(st));
        }

        foreach (var (k, v) in query.Labels)
        {
            Consider(IndexKey.Label(k, v));
        }

        return best;
    }

    public string? OwnerOfMac(string mac) => _state.Macs.GetValueOrDefault(mac);

    public string? OwnerOfAddress(uint address) => _state.Addresses.GetValueOrDefault(address);

    public bool IsAddressTaken(uint address) => _state.Addresses.ContainsKey(address);

    /// <summary>Boot progress by stage of the machine with <paramref name="mac"/> (normalized), if it ever booted from us.</summary>
    public IReadOnlyDictionary<string, (DateTimeOffset At, string? Serial)>? ProgressOf(string mac) =>
        _state.Progress.TryGetValue(mac, out var stages) ? stages : null;

    public Dhcp.DhcpLease? Lease(uint address) => _state.Leases.GetValueOrDefault(address);

    /// <summary>The address of the newest lease record held by <paramref name="client"/>, if any.</summary>
    public uint? LeaseOf(string client) => _state.LeaseByClient.TryGetValue(client, out var a) ? a : null;

    public int LeaseCount => _state.Leases.Count;

    public ApiToken? TokenByHash(string sha256) => _state.TokensByHash.GetValueOrDefault(sha256);

    public IEnumerable<ApiToken> Tokens => _state.TokensByName.Values;

    /// <summary>
    /// Waits until the cache has applied <paramref name="revision"/> (read-your-writes after a write), at most
    /// <paramref name="timeout"/>. Returns false on time-out: the write happened, the cache is just behind.
    /// </summary>
    public async Task<bool> WaitForRevisionAsync(long revision, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            while (Revision < revision)
            {
                var advanced = Volatile.Read(ref _advanced).Task;
                if (Revision >= revision)
                {
                    break;
                }

                await advanced.WaitAsync(cts.Token);
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
                _watching = false;
                LogWatchFailed(Revision, backoff.TotalMilliseconds, e.Message);
                try
                {
                    await Task.Delay(backoff, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                if (!needLoad)
                {
                    Interlocked.Increment(ref _resumes);
                }
            }
        }

        _watching = false;
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var keys = _store.Keys;
        var state = new CacheState();
        var (machines, rev) = await _store.RangeAllAsync(keys.MachinesPrefix, 0, ct);
        var (macs, _) = await _store.RangeAllAsync(keys.MacsPrefix, rev, ct);
        var (ipam, _) = await _store.RangeAllAsync(keys.Prefix + "ipam/", rev, ct);
        var (tokens, _) = await _store.RangeAllAsync(keys.TokensPrefix, rev, ct);
        var (leases, _) = await _store.RangeAllAsync(keys.DhcpLeasesPrefix, rev, ct);
        var (progress, _) = await _store.RangeAllAsync(keys.ProgressPrefix, rev, ct);
        var (schema, _) = await _store.RangeAllAsync(keys.Schema, rev, ct);
        foreach (var kv in machines.Concat(macs).Concat(ipam).Concat(tokens).Concat(schema).Concat(leases).Concat(progress))
        {
            Apply(state, kv.Key.ToStringUtf8(), kv, deleted: false);
        }

        _state = state;
        Advance(rev);
        Interlocked.Increment(ref _loads);
        LogLoaded(state.Machines.Count, rev);
        _ready.TrySetResult();
    }

    /// <summary>Runs one watch stream; returns true when a fresh snapshot is needed (compaction).</summary>
    private async Task<bool> WatchAsync(Action onHealthy, CancellationToken ct)
    {
        var keys = _store.Keys;
        using var call = _store.OpenWatch(ct);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(keys.Prefix),
                RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(keys.Prefix)),
                StartRevision = Revision + 1,
            },
        }, ct);

        while (await call.ResponseStream.MoveNext(ct))
        {
            var response = call.ResponseStream.Current;
            if (response.CompactRevision > 0)
            {
                _watching = false;
                LogCompacted(Revision, response.CompactRevision);
                return true;
            }

            if (response.Canceled)
            {
                throw new InvalidOperationException($"etcd canceled the watch: {response.CancelReason}");
            }

            if (response.Created)
            {
                _watching = true;
                onHealthy();
                if (Resumes > 0)
                {
                    LogResumed(Revision);
                }
            }

            if (response.Events.Count == 0)
            {
                continue;
            }

            var state = _state;
            long last = 0;
            foreach (var ev in response.Events)
            {
                Apply(state, ev.Kv.Key.ToStringUtf8(), ev.Kv, ev.Type == Mvccpb.Event.Types.EventType.Delete);
                last = ev.Kv.ModRevision;
            }

            Advance(last);
        }

        throw new InvalidOperationException("etcd closed the watch stream");
    }

    private void Advance(long revision)
    {
        if (revision > Volatile.Read(ref _revision))
        {
            Volatile.Write(ref _revision, revision);
        }

        var old = Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        old.TrySetResult();
    }

    private void Apply(CacheState state, string key, Mvccpb.KeyValue kv, bool deleted)
    {
        var keys = _store.Keys;
        try
        {
            if (key.StartsWith(keys.MachinesPrefix, StringComparison.Ordinal))
            {
                // Replace in place: a reader must never see an existing machine missing while it is updated.
                var serial = key[keys.MachinesPrefix.Length..];
                if (deleted)
                {
                    if (state.Machines.TryRemove(serial, out var gone))
                    {
                        state.Unindex(gone, except: null);
                    }
                }
                else
                {
                    var machine = InventoryJson.FromBytes<Machine>(kv.Value) with { Revision = kv.ModRevision };
                    state.IndexMachine(machine);
                    var had = state.Machines.TryGetValue(serial, out var old);
                    state.Machines[serial] = machine;
                    if (had)
                    {
                        state.Unindex(old!, except: machine);
                    }
                }
            }
            else if (key.StartsWith(keys.MacsPrefix, StringComparison.Ordinal))
            {
                var mac = key[keys.MacsPrefix.Length..];
                if (deleted)
                {
                    state.Macs.TryRemove(mac, out _);
                }
                else
                {
                    state.Macs[mac] = kv.Value.ToStringUtf8();
                }
            }
            else if (key.StartsWith(keys.AddressesPrefix, StringComparison.Ordinal))
            {
                if (Ipv4.TryParse(key[keys.AddressesPrefix.Length..], out var address))
                {
                    if (deleted)
                    {
                        state.Addresses.TryRemove(address, out _);
                    }
                    else
                    {
                        state.Addresses[address] = kv.Value.ToStringUtf8();
                    }
                }
            }
            else if (key.StartsWith(keys.DhcpLeasesPrefix, StringComparison.Ordinal))
            {
                // Replace in place: a live lease must never look absent (free) to an allocation while it is updated.
                if (Ipv4.TryParse(key[keys.DhcpLeasesPrefix.Length..], out var address))
                {
                    Dhcp.DhcpLease? old;
                    Dhcp.DhcpLease? lease = null;
                    if (deleted)
                    {
                        state.Leases.TryRemove(address, out old);
                    }
                    else
                    {
                        lease = InventoryJson.FromBytes<Dhcp.DhcpLease>(kv.Value) with { Revision = kv.ModRevision };
                        state.Leases.TryGetValue(address, out old);
                        state.Leases[address] = lease;
                        if (lease.State != Dhcp.DhcpLeaseState.Released)
                        {
                            state.LeaseByClient[lease.Client] = address;
                        }
                    }

                    // the previous holder's index entry goes once it no longer holds this address
                    if (old is not null && (lease is null || lease.Client != old.Client || lease.State == Dhcp.DhcpLeaseState.Released))
                    {
                        state.LeaseByClient.TryRemove(new KeyValuePair<string, uint>(old.Client, address));
                    }
                }
            }
            else if (key.StartsWith(keys.ProgressPrefix, StringComparison.Ordinal))
            {
                var rest = key[keys.ProgressPrefix.Length..];
                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0)
                {
                    var (mac, stage) = (rest[..slash], rest[(slash + 1)..]);
                    var stages = state.Progress.GetOrAdd(mac, _ => new ConcurrentDictionary<string, (DateTimeOffset, string?)>(StringComparer.Ordinal));
                    if (deleted)
                    {
                        stages.TryRemove(stage, out _);
                    }
                    else
                    {
                        var value = kv.Value.ToStringUtf8().Split(' ', 2);
                        if (DateTimeOffset.TryParse(value[0], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var at))
                        {
                            stages[stage] = (at, value.Length > 1 && value[1].Length > 0 ? value[1] : null);
                        }
                    }
                }
            }
            else if (key == keys.IpamConfig)
            {
                if (deleted)
                {
                    state.SetIpam(new IpamConfig(), []);
                }
                else
                {
                    var config = InventoryJson.FromBytes<IpamConfig>(kv.Value) with { Revision = kv.ModRevision };
                    state.SetIpam(config, IpamValidator.Resolve(config));
                }
            }
            else if (key.StartsWith(keys.TokensPrefix, StringComparison.Ordinal))
            {
                var name = key[keys.TokensPrefix.Length..];
                if (state.TokensByName.TryRemove(name, out var old))
                {
                    state.TokensByHash.TryRemove(old.Sha256, out _);
                }

                if (!deleted)
                {
                    var token = InventoryJson.FromBytes<ApiToken>(kv.Value);
                    state.TokensByName[name] = token;
                    state.TokensByHash[token.Sha256] = token;
                }
            }
            else if (key == keys.Schema)
            {
                state.SchemaVersion = !deleted && int.TryParse(kv.Value.ToStringUtf8(), out var v) ? v : null;
            }
        }
        catch (Exception e) when (e is JsonException or ValidationException)
        {
            // A value this build cannot read must not stop the cache: keep the rest, say which key.
            LogBadValue(key, kv.ModRevision, e.Message);
        }
    }

    private static class IndexKey
    {
        public static string Role(string role) => "r\0" + role;

        public static string State(MachineState state) => "s\0" + state.ToWire();

        public static string Label(string key, string value) => "l\0" + key + "\0" + value;
    }

    private sealed class CacheState
    {
        public ConcurrentDictionary<string, Machine> Machines { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, string> Macs { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<uint, string> Addresses { get; } = new();
        public ConcurrentDictionary<uint, Dhcp.DhcpLease> Leases { get; } = new();
        public ConcurrentDictionary<string, ConcurrentDictionary<string, (DateTimeOffset, string?)>> Progress { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, uint> LeaseByClient { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, ApiToken> TokensByName { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, ApiToken> TokensByHash { get; } = new(StringComparer.Ordinal);
        /// <summary>Secondary indexes: role, state and each label → the serials that have it.</summary>
        public ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> Index { get; } = new(StringComparer.Ordinal);

        public int? SchemaVersion { get; set; }

        private static IEnumerable<string> IndexKeys(Machine m)
        {
            if (m.Role is not null)
            {
                yield return IndexKey.Role(m.Role);
            }

            yield return IndexKey.State(m.State);
            foreach (var (k, v) in m.Labels)
            {
                yield return IndexKey.Label(k, v);
            }
        }

        public void IndexMachine(Machine m)
        {
            foreach (var k in IndexKeys(m))
            {
                Index.GetOrAdd(k, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[m.Serial] = 0;
            }
        }

        /// <summary>Removes <paramref name="m"/> from the indexes it is in, except those <paramref name="except"/> is in too.</summary>
        public void Unindex(Machine m, Machine? except)
        {
            var keep = except is null ? [] : IndexKeys(except).ToHashSet(StringComparer.Ordinal);
            foreach (var k in IndexKeys(m).Where(k => !keep.Contains(k)))
            {
                if (Index.TryGetValue(k, out var set))
                {
                    set.TryRemove(m.Serial, out _);
                }
            }
        }
        public IpamConfig Ipam { get; private set; } = new();
        public IReadOnlyList<ResolvedSubnet> Subnets { get; private set; } = [];

        public void SetIpam(IpamConfig config, IReadOnlyList<ResolvedSubnet> subnets)
        {
            Ipam = config;
            Subnets = subnets;
        }
    }

    [LoggerMessage(EventIds.CacheLoaded, LogLevel.Information, "Inventory cache loaded {Machines} machines at revision {Revision}")]
    private partial void LogLoaded(int machines, long revision);

    [LoggerMessage(EventIds.WatchFailed, LogLevel.Warning, "etcd watch failed at revision {Revision}; retrying in {DelayMs} ms: {Reason}")]
    private partial void LogWatchFailed(long revision, double delayMs, string reason);

    [LoggerMessage(EventIds.WatchCompacted, LogLevel.Warning, "etcd compacted past revision {Revision} (compact revision {CompactRevision}); reloading the inventory cache")]
    private partial void LogCompacted(long revision, long compactRevision);

    [LoggerMessage(EventIds.WatchResumed, LogLevel.Information, "etcd watch resumed after revision {Revision}")]
    private partial void LogResumed(long revision);

    [LoggerMessage(EventIds.CacheBadValue, LogLevel.Error, "Ignoring unreadable value of {Key} at revision {Revision}: {Reason}")]
    private partial void LogBadValue(string key, long revision, string reason);
}
