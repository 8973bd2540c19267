using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Servers;

/// <summary>Who this boot server is and where its peers reach it.</summary>
public sealed record ServerRegistryOptions
{
    /// <summary>Stable id of this boot server (a key segment: letters, digits, '.', '_', '-').</summary>
    public required string ServerId { get; init; }

    /// <summary>HTTP base URLs peers use to reach this server, e.g. <c>http://192.168.1.10:8080</c>.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];

    /// <summary>TTL of the etcd lease behind <c>servers/{id}</c>; renewed every third of it.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Registers this boot server under <c>servers/{id}</c> with an etcd lease and keeps the lease alive; when the
/// lease is lost (etcd unreachable longer than its TTL) it registers again with a new one. Keys other parts attach
/// to <see cref="LeaseId"/> (e.g. which assets this server holds) vanish with the lease, so peers never trust a
/// dead server for long. On a clean stop its keys are deleted at once.
/// </summary>
public sealed partial class ServerRegistry : BackgroundService
{
    private readonly EtcdStore _store;
    private readonly ServerRegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ServerRegistry> _logger;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _leaseId;

    public ServerRegistry(EtcdStore store, ServerRegistryOptions options, TimeProvider time, ILogger<ServerRegistry> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public string ServerId => _options.ServerId;

    public IReadOnlyList<string> Urls => _options.Urls;

    /// <summary>The lease this server is registered with; 0 while it is not.</summary>
    public long LeaseId => Interlocked.Read(ref _leaseId);

    /// <summary>Completes when the lease changes (registered, lost, registered again).</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ttl = (long)Math.Max(2, _options.LeaseTtl.TotalSeconds);
        var period = TimeSpan.FromSeconds(ttl / 3.0);
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var lease = await _store.GrantLeaseAsync(ttl, stoppingToken);
                var record = new BootServerRecord { Id = ServerId, Urls = Urls, StartedAt = _time.GetUtcNow() };
                var txn = new TxnRequest();
                txn.Success.Add(new RequestOp
                {
                    RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(_store.Keys.Server(ServerId)), Value = InventoryJson.ToBytes(record), Lease = lease },
                });
                await _store.TxnAsync(txn, stoppingToken);
                SetLease(lease);
                LogRegistered(ServerId, string.Join(",", Urls), lease);
                backoff = TimeSpan.FromMilliseconds(200);
                var renewed = _time.GetUtcNow();
                while (true)
                {
                    await Task.Delay(period, _time, stoppingToken);
                    long left;
                    try
                    {
                        left = await _store.KeepAliveOnceAsync(lease, stoppingToken);
                    }
                    catch (Exception e) when (e is RpcException or StoreUnavailableException && !stoppingToken.IsCancellationRequested && _time.GetUtcNow() - renewed < _options.LeaseTtl)
                    {
                        LogFailed(ServerId, period.TotalMilliseconds, e.Message);
                        continue; // the lease may still live: try again before it runs out
                    }

                    if (left <= 0)
                    {
                        LogLeaseLost(ServerId, lease);
                        SetLease(0);
                        break;
                    }

                    renewed = _time.GetUtcNow();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or StoreUnavailableException or IOException or InvalidOperationException)
            {
                LogFailed(ServerId, backoff.TotalMilliseconds, e.Message);
                if (LeaseId != 0)
                {
                    SetLease(0);
                }

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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (LeaseId == 0)
        {
            return;
        }

        SetLease(0);
        try
        {
            // Peers forget this server (and what it holds) now rather than when the lease runs out.
            var holders = _store.Keys.AssetHoldersPrefix + ServerId + "/";
            var txn = new TxnRequest();
            txn.Success.Add(Txn.Delete(_store.Keys.Server(ServerId)));
            txn.Success.Add(new RequestOp
            {
                RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(holders), RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(holders)) },
            });
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await _store.TxnAsync(txn, timeout.Token);
        }
        catch (Exception e) when (e is RpcException or StoreUnavailableException or ObjectDisposedException or OperationCanceledException)
        {
            // the lease expires on its own
        }
    }

    private void SetLease(long lease)
    {
        Interlocked.Exchange(ref _leaseId, lease);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    [LoggerMessage(EventIds.ServerRegistered, LogLevel.Information, "Boot server {ServerId} registered at {Urls} with lease {Lease}")]
    private partial void LogRegistered(string serverId, string urls, long lease);

    [LoggerMessage(EventIds.ServerLeaseLost, LogLevel.Warning, "Boot server {ServerId} lost its etcd lease {Lease}; registering again")]
    private partial void LogLeaseLost(string serverId, long lease);

    [LoggerMessage(EventIds.ServerRegistryFailed, LogLevel.Warning, "Boot server {ServerId} could not register or renew its lease; retrying in {DelayMs} ms: {Reason}")]
    private partial void LogFailed(string serverId, double delayMs, string reason);
}
