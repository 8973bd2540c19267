using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Leadership;

/// <summary>
/// The proof a leader attaches to its writes: the create revision of <c>leaders/{name}</c> when this process created it.
/// A write fenced with it is a transaction that also compares that create revision (<see cref="Compare"/>), so once
/// the key has gone (lease expired, resigned, deleted) or belongs to a newer leader, the write is refused.
/// </summary>
public sealed record LeaderFence(string Key, long CreateRevision)
{
    internal Compare Compare => Txn.CreateRevisionIs(Key, CreateRevision);
}

/// <summary>What a controller needs to know about its leadership.</summary>
public interface ILeadership
{
    bool IsLeader { get; }

    /// <summary>The fence of the current term; null while not the leader.</summary>
    LeaderFence? Fence { get; }

    /// <summary>Cancelled when the current term ends; already cancelled while not the leader.</summary>
    CancellationToken LeadershipToken { get; }
}

public sealed record LeaderElectionOptions
{
    /// <summary>What is being led (a key segment: letters, digits, '.', '_', '-'), e.g. <c>state-setter</c>.</summary>
    public required string Name { get; init; }

    /// <summary>This process's id, stored as the key's value (the boot server's id).</summary>
    public required string CandidateId { get; init; }

    /// <summary>TTL of the election lease: how long a dead leader blocks the others at most. Renewed every third of it.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Leader election through etcd for one named controller. Each candidate holds an etcd lease (kept alive) and tries to
/// create <c>leaders/{name}</c> with it only if the key is absent (a transaction); the one that succeeds leads, the
/// others watch the key and try again when it goes (lease expired, resigned). A leader that cannot renew its lease
/// within the TTL (by its own clock, counted from before the last successful renewal, so never later than etcd) or
/// sees its key vanish steps down at once: <see cref="LeadershipToken"/> fires. Stopping resigns (revokes the lease,
/// which deletes the key), so a successor takes over at once instead of after the TTL. Writes that must not be
/// made by a deposed leader compare <see cref="Fence"/>.
/// </summary>
public sealed partial class LeaderElector : BackgroundService, ILeadership
{
    private static readonly CancellationToken Ended = new(canceled: true);
    private readonly EtcdStore _store;
    private readonly LeaderElectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LeaderElector> _logger;
    private readonly string _key;
    private Term? _term;
    private long _leaseId;
    private long _renewedAtTicks;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Term(LeaderFence Fence, CancellationTokenSource Lost);

    public LeaderElector(EtcdStore store, LeaderElectionOptions options, TimeProvider time, ILogger<LeaderElector> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Name.Length is 0 or > 64 || !options.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException($"'{options.Name}' is not a valid leadership name", nameof(options));
        }

        if (options.LeaseTtl < TimeSpan.FromSeconds(2))
        {
            throw new ArgumentException("the election lease TTL must be at least 2 s", nameof(options));
        }

        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _key = store.Keys.Leader(options.Name);
    }

    public string Name => _options.Name;

    public string CandidateId => _options.CandidateId;

    /// <summary>
    /// True during a term whose lease was renewed within the TTL by this process's clock. The clock is read here, not
    /// only by the renewal loop's timer, so a late timer (a loaded machine) cannot make a leader believe in a lease
    /// that etcd may already have expired.
    /// </summary>
    public bool IsLeader => Volatile.Read(ref _term) is { } t && !t.Lost.IsCancellationRequested && LeaseStillHeld;

    public LeaderFence? Fence => Volatile.Read(ref _term) is { } t && !t.Lost.IsCancellationRequested && LeaseStillHeld ? t.Fence : null;

    private bool LeaseStillHeld =>
        _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _renewedAtTicks) + _options.LeaseTtl.Ticks;

    public CancellationToken LeadershipToken => Volatile.Read(ref _term) is { } t ? t.Lost.Token : Ended;

    /// <summary>Completes at the next change of leadership (elected or deposed).</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>Test hook: while set, this candidate sends no keep-alive and no revoke, as if cut off from etcd.</summary>
    internal bool SimulatePartition { get; set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ttlSeconds = (long)Math.Ceiling(_options.LeaseTtl.TotalSeconds);
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = _time.GetUtcNow();
                var lease = await _store.GrantLeaseAsync(ttlSeconds, stoppingToken);
                Interlocked.Exchange(ref _leaseId, lease);
                Interlocked.Exchange(ref _renewedAtTicks, started.UtcTicks);
                await CampaignAsync(lease, stoppingToken);
                backoff = TimeSpan.FromMilliseconds(200);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or StoreUnavailableException or IOException or InvalidOperationException)
            {
                Depose("etcd failed: " + e.Message);
                LogFailed(Name, backoff.TotalMilliseconds, e.Message);
                await RevokeQuietlyAsync(Interlocked.Exchange(ref _leaseId, 0));
                try
                {
                    await Task.Delay(backoff, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.LeaseTtl.Ticks / 3));
            }
        }
    }

    /// <summary>Runs on one lease until the lease is lost: leads when the key is free, otherwise waits for it to go.</summary>
    private async Task CampaignAsync(long lease, CancellationToken stop)
    {
        while (true)
        {
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.Absent(_key));
            var put = Txn.Put(_key, _options.CandidateId);
            put.RequestPut.Lease = lease;
            txn.Success.Add(put);
            txn.Failure.Add(Txn.Get(_key));
            var response = await _store.TxnAsync(txn, stop);
            using var round = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var keepAlive = KeepAliveAsync(lease, round.Token);
            Task watch;
            if (response.Succeeded)
            {
                var term = new Term(new LeaderFence(_key, response.Header.Revision), new CancellationTokenSource());
                SetTerm(term);
                LogElected(Name, CandidateId, term.Fence.CreateRevision);
                watch = WatchUntilGoneAsync(response.Header.Revision, response.Header.Revision, round.Token);
            }
            else
            {
                var kvs = response.Responses[0].ResponseRange.Kvs;
                if (kvs.Count == 0)
                {
                    continue; // went between compare and read: try again
                }

                watch = WatchUntilGoneAsync(kvs[0].CreateRevision, response.Header.Revision + 1, round.Token);
            }

            var first = await Task.WhenAny(keepAlive, watch);
            await round.CancelAsync();
            try
            {
                await (first == keepAlive ? watch : keepAlive);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or StoreUnavailableException or InvalidOperationException)
            {
                // ended by the cancellation above
            }

            stop.ThrowIfCancellationRequested();
            await first; // a watch or keep-alive failure surfaces here
            if (first == keepAlive)
            {
                Depose("the election lease was not renewed within its TTL");
                await RevokeQuietlyAsync(Interlocked.Exchange(ref _leaseId, 0));
                return; // a new lease, then campaign again
            }

            if (IsLeader)
            {
                Depose("the leadership key was deleted or replaced");
            }
        }
    }

    /// <summary>Renews the lease every third of its TTL; returns when it is lost (expired, or not renewed within the TTL).</summary>
    private async Task KeepAliveAsync(long lease, CancellationToken ct)
    {
        var period = _options.LeaseTtl / 3;
        var retry = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, _options.LeaseTtl.Ticks / 10));
        var next = period;
        while (true)
        {
            var renewedAt = new DateTimeOffset(Interlocked.Read(ref _renewedAtTicks), TimeSpan.Zero);
            var left = renewedAt + _options.LeaseTtl - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(next < left ? next : left, _time, ct);
            if (SimulatePartition)
            {
                next = retry;
                continue;
            }

            var sent = _time.GetUtcNow();
            try
            {
                if (await _store.KeepAliveOnceAsync(lease, ct) <= 0)
                {
                    return; // etcd says it has expired
                }

                Interlocked.Exchange(ref _renewedAtTicks, sent.UtcTicks);
                next = period;
            }
            catch (Exception e) when (e is RpcException or StoreUnavailableException && !ct.IsCancellationRequested)
            {
                next = retry; // the lease may still live: try again before it runs out
            }
        }
    }

    /// <summary>
    /// Returns once <c>leaders/{name}</c> no longer holds the key created at <paramref name="createRevision"/>:
    /// deleted, or created anew. Watches from <paramref name="fromRevision"/>; after a compaction it reads the key.
    /// </summary>
    private async Task WatchUntilGoneAsync(long createRevision, long fromRevision, CancellationToken ct)
    {
        while (true)
        {
            using var call = _store.OpenWatch(ct);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8(_key), StartRevision = fromRevision },
            }, ct);
            var compacted = false;
            while (await call.ResponseStream.MoveNext(ct))
            {
                var response = call.ResponseStream.Current;
                if (response.CompactRevision > 0)
                {
                    compacted = true;
                    break;
                }

                if (response.Canceled)
                {
                    throw new InvalidOperationException($"etcd canceled the leadership watch: {response.CancelReason}");
                }

                foreach (var ev in response.Events)
                {
                    if (ev.Type == Mvccpb.Event.Types.EventType.Delete || ev.Kv.CreateRevision != createRevision)
                    {
                        return;
                    }
                }
            }

            if (!compacted)
            {
                throw new InvalidOperationException("the leadership watch ended");
            }

            var read = await _store.GetAsync(_key, ct);
            if (read.Kvs.Count == 0 || read.Kvs[0].CreateRevision != createRevision)
            {
                return;
            }

            fromRevision = read.Header.Revision + 1;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var wasLeader = IsLeader;
        Depose(null);
        await RevokeQuietlyAsync(Interlocked.Exchange(ref _leaseId, 0));
        if (wasLeader)
        {
            LogResigned(Name, CandidateId);
        }
    }

    private async Task RevokeQuietlyAsync(long lease)
    {
        if (lease == 0 || SimulatePartition)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _store.RevokeLeaseAsync(lease, timeout.Token);
        }
        catch (Exception e) when (e is RpcException or StoreUnavailableException or ObjectDisposedException or OperationCanceledException)
        {
            // it expires on its own
        }
    }

    private void SetTerm(Term term)
    {
        Volatile.Write(ref _term, term);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private void Depose(string? reason)
    {
        if (Volatile.Read(ref _term) is not { } term || term.Lost.IsCancellationRequested)
        {
            return;
        }

        term.Lost.Cancel();
        if (reason is not null)
        {
            LogLost(Name, CandidateId, term.Fence.CreateRevision, reason);
        }

        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public override void Dispose()
    {
        Volatile.Read(ref _term)?.Lost.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventIds.LeaderElected, LogLevel.Information, "{Candidate} leads {Name} (fence revision {Revision})")]
    private partial void LogElected(string name, string candidate, long revision);

    [LoggerMessage(EventIds.LeaderLost, LogLevel.Warning, "{Candidate} no longer leads {Name} (fence revision {Revision}): {Reason}")]
    private partial void LogLost(string name, string candidate, long revision, string reason);

    [LoggerMessage(EventIds.LeaderResigned, LogLevel.Information, "{Candidate} resigned the leadership of {Name}")]
    private partial void LogResigned(string name, string candidate);

    [LoggerMessage(EventIds.LeaderElectionFailed, LogLevel.Warning, "Election for {Name} failed; retrying in {DelayMs} ms: {Reason}")]
    private partial void LogFailed(string name, double delayMs, string reason);
}
