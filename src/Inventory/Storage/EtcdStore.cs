using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace NekkoMetal.Inventory.Storage;

/// <summary>
/// The one door to etcd: raw KV/Watch/Maintenance calls through dotnet-etcd's gRPC clients with a deadline on each,
/// and gRPC failures turned into <see cref="StoreUnavailableException"/>.
/// </summary>
public sealed class EtcdStore : IDisposable
{
    private readonly EtcdClient _client;
    private readonly TimeSpan _timeout;

    public EtcdStore(InventoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("no etcd endpoint configured", nameof(options));
        }

        Keys = new EtcdKeys(options.Prefix);
        _timeout = options.RequestTimeout;
        var insecure = options.Endpoints.All(e => e.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        _client = new EtcdClient(
            string.Join(",", options.Endpoints),
            configureChannelOptions: o =>
            {
                if (insecure)
                {
                    o.Credentials = ChannelCredentials.Insecure;
                }

                o.MaxReceiveMessageSize = MaxMessageBytes;
            });
        Endpoints = options.Endpoints;
    }

    /// <summary>Largest gRPC message accepted from etcd (a watch response carries a whole transaction).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>Keys per page when a whole prefix is read.</summary>
    public const int PageSize = 1000;

    public EtcdKeys Keys { get; }

    public IReadOnlyList<string> Endpoints { get; }

    internal KV.KVClient KV => _client.GetConnection().KVClient;

    internal Watch.WatchClient Watch => _client.GetConnection().WatchClient;

    private CallOptions Call(CancellationToken ct) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: ct);

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken ct) =>
        Guard(() => KV.RangeAsync(request, Call(ct)).ResponseAsync);

    public Task<RangeResponse> GetAsync(string key, CancellationToken ct) =>
        RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, ct);

    public Task<RangeResponse> GetPrefixAsync(string prefix, CancellationToken ct, long revision = 0, bool keysOnly = false) =>
        RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(prefix)),
            Revision = revision,
            KeysOnly = keysOnly,
        }, ct);

    /// <summary>The last <paramref name="limit"/> keys under <paramref name="prefix"/> by key order, highest first (the newest of time-ordered keys).</summary>
    public Task<RangeResponse> GetNewestAsync(string prefix, long limit, CancellationToken ct) =>
        RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(prefix)),
            Limit = limit,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            SortTarget = RangeRequest.Types.SortTarget.Key,
        }, ct);

    /// <summary>
    /// Reads every key under <paramref name="prefix"/> at one revision, page by page.
    /// Returns the key-values and the revision they were read at (the store's revision when <paramref name="revision"/> is 0).
    /// </summary>
    public async Task<(List<Mvccpb.KeyValue> Kvs, long Revision)> RangeAllAsync(string prefix, long revision, CancellationToken ct)
    {
        var kvs = new List<Mvccpb.KeyValue>();
        var start = ByteString.CopyFromUtf8(prefix);
        var end = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(prefix));
        while (true)
        {
            var page = await RangeAsync(new RangeRequest { Key = start, RangeEnd = end, Revision = revision, Limit = PageSize }, ct);
            if (revision == 0)
            {
                revision = page.Header.Revision;
            }

            kvs.AddRange(page.Kvs);
            if (!page.More || page.Kvs.Count == 0)
            {
                return (kvs, revision);
            }

            start = ByteString.CopyFrom([.. page.Kvs[^1].Key.Span, 0]);
        }
    }

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct) =>
        Guard(() => KV.TxnAsync(request, Call(ct)).ResponseAsync);

    public Task<PutResponse> PutAsync(string key, ByteString value, CancellationToken ct) =>
        Guard(() => KV.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value }, Call(ct)).ResponseAsync);

    public Task<CompactionResponse> CompactAsync(long revision, CancellationToken ct) =>
        Guard(() => KV.CompactAsync(new CompactionRequest { Revision = revision, Physical = true }, Call(ct)).ResponseAsync);

    /// <summary>Grants an etcd lease of <paramref name="ttlSeconds"/>; keys put with it vanish when it expires.</summary>
    public async Task<long> GrantLeaseAsync(long ttlSeconds, CancellationToken ct) =>
        (await Guard(() => _client.GetConnection().LeaseClient.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, Call(ct)).ResponseAsync)).ID;

    /// <summary>Renews lease <paramref name="leaseId"/> once; returns its new TTL in seconds, 0 when it has expired (or never existed).</summary>
    public Task<long> KeepAliveOnceAsync(long leaseId, CancellationToken ct) => Guard(async () =>
    {
        using var call = _client.GetConnection().LeaseClient.LeaseKeepAlive(Call(ct));
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = leaseId }, ct);
        await call.RequestStream.CompleteAsync();
        return await call.ResponseStream.MoveNext(ct) ? call.ResponseStream.Current.TTL : 0;
    });

    /// <summary>Revokes lease <paramref name="leaseId"/>: every key attached to it is deleted at once.</summary>
    public Task<LeaseRevokeResponse> RevokeLeaseAsync(long leaseId, CancellationToken ct) =>
        Guard(() => _client.GetConnection().LeaseClient.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, Call(ct)).ResponseAsync);

    /// <summary>Asks one member for its status; used by the readiness probe.</summary>
    public Task<StatusResponse> StatusAsync(CancellationToken ct) =>
        Guard(() => _client.GetConnection().MaintenanceClient.StatusAsync(new StatusRequest(), Call(ct)).ResponseAsync);

    internal AsyncDuplexStreamingCall<WatchRequest, WatchResponse> OpenWatch(CancellationToken ct) =>
        Watch.Watch(new CallOptions(cancellationToken: ct));

    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown)
        {
            throw new StoreUnavailableException($"etcd ({string.Join(",", Endpoints)}) did not answer: {e.Status.Detail}", e);
        }
    }

    public void Dispose() => _client.Dispose();
}
