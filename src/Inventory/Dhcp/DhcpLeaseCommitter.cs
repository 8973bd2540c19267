using System.Threading.Channels;
using Etcdserverpb;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Dhcp;

/// <summary>The outcome of one lease write: committed, or the key was not as expected (with what it holds now).</summary>
/// <param name="Committed">True when the lease is durable in etcd and this server's cache has applied it.</param>
/// <param name="Current">When not committed: the lease stored now (null when the key is absent).</param>
internal readonly record struct DhcpLeaseWriteResult(bool Committed, DhcpLease? Current);

/// <summary>
/// Group commit of lease writes: every REQUEST/RELEASE/DECLINE that changes a lease queues a compare-and-swap
/// here; one loop gathers what queues (waiting up to <see cref="InventoryOptions.DhcpCommitWindow"/> for company,
/// less when a batch fills) and sends it as one etcd transaction (one compare and one put per lease, up to
/// <see cref="MaxBatch"/>), with up to <see cref="MaxInFlight"/> transactions in flight. A burst of clients costs a
/// handful of transactions instead of one each — each transaction costs etcd and this process far more than each
/// lease in it — and every lease is still durable (etcd commits the transaction to its log before answering)
/// before the client gets its ACK.
/// </summary>
/// <remarks>
/// etcd evaluates the compares of a transaction together: when any fails, nothing is written and the failure
/// branch reads every key back. Writes whose key is as expected are sent again in the next batch; the others
/// complete with what the key holds now, and the repository decides again on that (NAK, or retry). Two writes to
/// one key never share a transaction (etcd refuses duplicate keys), and a write never overtakes an earlier one to
/// the same key still in flight; the later waits for the next batch.
/// </remarks>
internal sealed class DhcpLeaseCommitter : IAsyncDisposable
{
    /// <summary>Leases per transaction: etcd's default <c>--max-txn-ops</c> is 128 per branch.</summary>
    public const int MaxBatch = 100;

    /// <summary>Transactions in flight at once: etcd writes concurrent ones with one log append and fsync.</summary>
    public const int MaxInFlight = 4;

    private readonly InventoryContext _ctx;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startGate = new();
    private Task? _loop;

    /// <summary>Writes in the channel (the single-reader channel cannot count them itself).</summary>
    private int _queued;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    private readonly HashSet<string> _busyKeys = new(StringComparer.Ordinal);
    private TaskCompletionSource _commitDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _batchFull = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DhcpLeaseCommitter(InventoryContext ctx) => _ctx = ctx;

    /// <summary>Transactions sent so far (for tests and metrics).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    private long _transactions;

    /// <summary>
    /// Writes <paramref name="lease"/> if its key still has <paramref name="expectedRevision"/> (0: absent). Completes once the
    /// transaction is committed and this server's cache has applied it, or with the lease found instead.
    /// </summary>
    public Task<DhcpLeaseWriteResult> WriteAsync(DhcpLease lease, long expectedRevision, CancellationToken ct)
    {
        EnsureStarted();
        var pending = new Pending(_ctx.Keys.DhcpLease(lease.Address), InventoryJson.ToBytes(lease with { Revision = 0 }), expectedRevision);
        var queued = Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _queued);
            ObjectDisposedException.ThrowIf(true, this);
        }

        if (queued >= MaxBatch)
        {
            Volatile.Read(ref _batchFull).TrySetResult();
        }

        return ct.CanBeCanceled ? pending.Done.Task.WaitAsync(ct) : pending.Done.Task;
    }

    private void EnsureStarted()
    {
        if (_loop is not null)
        {
            return;
        }

        lock (_startGate)
        {
            _loop ??= Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var carry = new List<Pending>();
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                if (carry.Count == 0 && !await reader.WaitToReadAsync(ct))
                {
                    return;
                }

                // The batch fills while this waits for a transaction slot and then for company.
                await _inFlight.WaitAsync(ct);
                var committed = Volatile.Read(ref _commitDone).Task;
                await WaitForCompanyAsync(carry.Count, ct);
                var batch = new List<Pending>(MaxBatch);
                var deferred = new List<Pending>();
                lock (_busyKeys)
                {
                    foreach (var p in carry)
                    {
                        Take(p);
                    }

                    carry.Clear();
                    while (batch.Count < MaxBatch && reader.TryRead(out var next))
                    {
                        Interlocked.Decrement(ref _queued);
                        Take(next);
                    }
                }

                carry.AddRange(deferred);
                if (batch.Count == 0)
                {
                    // Only writes to keys of transactions still in flight: wait for one of those (or for new writes).
                    _inFlight.Release();
                    await Task.WhenAny(committed, reader.WaitToReadAsync(ct).AsTask());
                    continue;
                }

                _ = CommitAsync(batch, ct);

                void Take(Pending p)
                {
                    // etcd refuses two writes to one key in a transaction; and a write must not overtake an earlier
                    // one to the same key that is still in flight.
                    if (batch.Count < MaxBatch && _busyKeys.Add(p.Key))
                    {
                        batch.Add(p);
                    }
                    else
                    {
                        deferred.Add(p);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            var stopped = new ObjectDisposedException(nameof(DhcpLeaseCommitter));
            foreach (var p in carry)
            {
                p.Done.TrySetException(stopped);
            }

            while (reader.TryRead(out var p))
            {
                p.Done.TrySetException(stopped);
            }
        }
    }

    /// <summary>Group commit: gives other writes <see cref="InventoryOptions.DhcpCommitWindow"/> to join, unless a batch is full already.</summary>
    private async Task WaitForCompanyAsync(int carried, CancellationToken ct)
    {
        var window = _ctx.Options.DhcpCommitWindow;
        if (window <= TimeSpan.Zero || carried + Volatile.Read(ref _queued) >= MaxBatch)
        {
            return;
        }

        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _batchFull, full);
        if (carried + Volatile.Read(ref _queued) >= MaxBatch)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(window, _ctx.Time, timeout.Token);
        await Task.WhenAny(full.Task, delay);
        await timeout.CancelAsync();
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Sends one batch as one transaction; up to <see cref="MaxInFlight"/> run at once (etcd commits them together).</summary>
    private async Task CommitAsync(List<Pending> batch, CancellationToken ct)
    {
        try
        {
            var txn = new TxnRequest();
            foreach (var p in batch)
            {
                txn.Compare.Add(p.ExpectedRevision == 0 ? Txn.Absent(p.Key) : Txn.ModRevisionIs(p.Key, p.ExpectedRevision));
                txn.Success.Add(Txn.Put(p.Key, p.Value));
                txn.Failure.Add(Txn.Get(p.Key));
            }

            TxnResponse response;
            try
            {
                response = await _ctx.Store.TxnAsync(txn, ct);
                Interlocked.Increment(ref _transactions);
            }
#pragma warning disable CA1031 // handed to every waiter of the batch
            catch (Exception e)
#pragma warning restore CA1031
            {
                Release(batch);
                foreach (var p in batch)
                {
                    p.Done.TrySetException(e);
                }

                return;
            }

            Release(batch);
            if (response.Succeeded)
            {
                // Waiters resume once the cache shows the writes (read-your-writes; the allocator sees them taken).
                await CompleteAfterReadBackAsync(batch, response.Header.Revision, ct);
                return;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var p = batch[i];
                var kvs = response.Responses[i].ResponseRange.Kvs;
                var actual = kvs.Count == 0 ? 0 : kvs[0].ModRevision;
                if (actual == p.ExpectedRevision)
                {
                    // This one was fine: another write's compare failed the transaction. Queue it again.
                    Interlocked.Increment(ref _queued);
                    if (!_queue.Writer.TryWrite(p))
                    {
                        Interlocked.Decrement(ref _queued);
                        p.Done.TrySetException(new ObjectDisposedException(nameof(DhcpLeaseCommitter)));
                    }
                }
                else
                {
                    var current = kvs.Count == 0 ? null : InventoryJson.FromBytes<DhcpLease>(kvs[0].Value) with { Revision = kvs[0].ModRevision };
                    p.Done.TrySetResult(new DhcpLeaseWriteResult(false, current));
                }
            }
        }
        finally
        {
            _inFlight.Release();
            Interlocked.Exchange(ref _commitDone, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private void Release(List<Pending> batch)
    {
        lock (_busyKeys)
        {
            foreach (var p in batch)
            {
                _busyKeys.Remove(p.Key);
            }
        }
    }

    private async Task CompleteAfterReadBackAsync(List<Pending> committed, long revision, CancellationToken ct)
    {
        try
        {
            await _ctx.ReadBackAsync(revision, ct);
        }
#pragma warning disable CA1031 // the writes are committed whatever the cache does; the caller only waited for read-your-writes
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        foreach (var p in committed)
        {
            p.Done.TrySetResult(new DhcpLeaseWriteResult(true, null));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_loop is { } loop)
        {
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        // Transactions still in flight end (cancelled) before the cancellation source goes.
        for (var i = 0; i < MaxInFlight; i++)
        {
            await _inFlight.WaitAsync(TimeSpan.FromSeconds(5));
        }

        _stop.Dispose();
        _inFlight.Dispose();
    }

    private sealed class Pending(string key, Google.Protobuf.ByteString value, long expectedRevision)
    {
        public string Key { get; } = key;

        public Google.Protobuf.ByteString Value { get; } = value;

        public long ExpectedRevision { get; } = expectedRevision;

        /// <summary>
        /// Completed once per batch, from one thread: the waiters' continuations (the ACKs) run inline one after the
        /// other rather than each waking a thread-pool thread.
        /// </summary>
        public TaskCompletionSource<DhcpLeaseWriteResult> Done { get; } = new();
    }
}
