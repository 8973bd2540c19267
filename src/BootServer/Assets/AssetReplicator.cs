using System.Collections.Concurrent;
using Grpc.Core;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Servers;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// Makes this server's disk match the asset catalog, driven by its watch (and a periodic pass for retries):
/// content some asset needs and this server lacks is fetched from a live peer that announces it (verified by
/// hash before it becomes local, then announced as held here); content no asset needs any more is deleted and
/// its announcement withdrawn; content held is announced under this server's current lease.
/// </summary>
public sealed partial class AssetReplicator : BackgroundService
{
    /// <summary>Path of the peer-to-peer content endpoint (plain HTTP, serves local content only, never redirects).</summary>
    public const string InternalContentPath = "/internal/v1/assets/sha256/";

    private const int MaxConcurrentFetches = 2;
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private readonly AssetCatalog _catalog;
    private readonly AssetRepository _repository;
    private readonly AssetFiles _files;
    private readonly ServerRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<AssetReplicator> _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Task> _fetches = new(StringComparer.Ordinal);
    private TaskCompletionSource _nudge = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AssetReplicator(AssetCatalog catalog, AssetRepository repository, AssetFiles files, ServerRegistry registry, TimeProvider time, ILogger<AssetReplicator> logger)
    {
        _catalog = catalog;
        _repository = repository;
        _files = files;
        _registry = registry;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan, // large images: each fetch has a deadline from its size instead
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("nekko-bootserver");
    }

    /// <summary>How many fetches ran to completion (tests).</summary>
    public int Fetched => Volatile.Read(ref _fetched);

    private int _fetched;

    /// <summary>Asks for a pass now (after a local upload or delete).</summary>
    public void Nudge() => Interlocked.Exchange(ref _nudge, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _catalog.WhenReady.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = _catalog.NextChange;
            var leaseChanged = _registry.NextChange;
            var nudged = Volatile.Read(ref _nudge).Task;
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is InventoryException or RpcException or IOException or UnauthorizedAccessException)
            {
                LogPassFailed(e.Message);
            }

            try
            {
                await Task.WhenAny(changed, leaseChanged, nudged, Task.Delay(RetryInterval, _time, stoppingToken));
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(_fetches.Values).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        var me = _registry.ServerId;
        var needed = _catalog.Assets.GroupBy(a => a.Sha256, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var local = _files.List().ToHashSet(StringComparer.Ordinal);

        // Content nobody needs any more goes (unless an upload that produced it is still recording it).
        foreach (var sha in local.Where(s => !needed.ContainsKey(s) && !_files.IsHeld(s) && !_fetches.ContainsKey(s)).ToList())
        {
            _files.Delete(sha);
            local.Remove(sha);
            LogRemoved(sha);
            if (_catalog.Holds(me, sha))
            {
                await _repository.WithdrawHeldAsync(me, sha, ct);
            }
        }

        // Needed content this server is recorded as holding but lacks (removed by hand): withdraw the record.
        foreach (var sha in needed.Keys.Where(s => !local.Contains(s) && _catalog.Holds(me, s)).ToList())
        {
            await _repository.WithdrawHeldAsync(me, sha, ct);
        }

        // What this server announces: the needed content it has, under its current lease. A record that vanished
        // (an old lease expired) is put again; while the watch lags behind a put, the put may repeat (idempotent).
        var lease = _registry.LeaseId;
        if (lease != 0)
        {
            foreach (var sha in local.Where(s => needed.ContainsKey(s) && !_catalog.Holds(me, s)))
            {
                await _repository.AnnounceHeldAsync(me, sha, lease, ct);
            }
        }

        // Fetch what is missing, a few at a time.
        foreach (var (sha, asset) in needed)
        {
            if (local.Contains(sha) || _fetches.ContainsKey(sha) || _fetches.Count >= MaxConcurrentFetches)
            {
                continue;
            }

            var peers = _catalog.HoldersOf(sha).Where(p => p.Id != me && p.Urls.Count > 0).ToList();
            if (peers.Count == 0)
            {
                continue; // nobody has it yet (or any more); the watch brings the next announcement
            }

            var fetch = new Task<Task>(() => FetchAsync(asset, peers, ct));
            _fetches[sha] = fetch.Unwrap(); // registered before it starts: its clean-up cannot run first
            fetch.Start(TaskScheduler.Default);
        }
    }

    private async Task FetchAsync(AssetInfo asset, IReadOnlyList<BootServerRecord> peers, CancellationToken ct)
    {
        try
        {
            foreach (var peer in peers.OrderBy(_ => Random.Shared.Next()))
            {
                foreach (var url in peer.Urls)
                {
                    var source = url.TrimEnd('/') + InternalContentPath + asset.Sha256;
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    deadline.CancelAfter(TimeSpan.FromSeconds(60 + (asset.Size >> 20))); // at least 1 MiB/s
                    try
                    {
                        using var response = await _http.GetAsync(source, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                        if (!response.IsSuccessStatusCode)
                        {
                            LogFetchFailed(asset.Name, source, $"HTTP {(int)response.StatusCode}");
                            continue;
                        }

                        await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
                        using var stored = await _files.WriteAsync(body, asset.Size, asset.Sha256, asset.Size, "sha256", deadline.Token);
                        Interlocked.Increment(ref _fetched);
                        LogFetched(asset.Name, asset.Sha256, asset.Size, peer.Id);
                        return;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or InventoryException or BadHttpRequestException
                        || (e is OperationCanceledException && !ct.IsCancellationRequested))
                    {
                        LogFetchFailed(asset.Name, source, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _fetches.TryRemove(asset.Sha256, out _);
            Nudge();
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _http.Dispose();
    }

    [LoggerMessage(EventIds.AssetFetched, LogLevel.Information, "Fetched asset {Name} (sha256 {Sha256}, {Size} bytes) from boot server {Peer}")]
    private partial void LogFetched(string name, string sha256, long size, string peer);

    [LoggerMessage(EventIds.AssetFetchFailed, LogLevel.Warning, "Could not fetch asset {Name} from {Source}: {Reason}")]
    private partial void LogFetchFailed(string name, string source, string reason);

    [LoggerMessage(EventIds.AssetRemoved, LogLevel.Information, "Removed asset content {Sha256}: no asset refers to it any more")]
    private partial void LogRemoved(string sha256);

    [LoggerMessage(EventIds.AssetPassFailed, LogLevel.Warning, "Asset replication pass failed; retrying: {Reason}")]
    private partial void LogPassFailed(string reason);
}
