using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.KubeInstaller.Execution.HostKeys;

/// <summary>A pinned host key as stored at <c>kube/hostkeys/{serial}</c>.</summary>
public sealed record PinnedHostKey(string Serial, string Fingerprint, DateTimeOffset PinnedAt);

/// <summary>Host-key pins in etcd, each created by a create-if-absent transaction so two boot servers never pin different keys.</summary>
public sealed class EtcdHostKeyStore(EtcdStore store, TimeProvider time) : IHostKeyStore
{
    private readonly KubeKeys _keys = new(store.Keys);

    public async Task<string?> GetAsync(string serial, CancellationToken ct)
    {
        var r = await store.GetAsync(_keys.HostKey(serial), ct);
        return r.Kvs.Count == 0 ? null : Read(r.Kvs[0].Value).Fingerprint;
    }

    public async Task<string> PinAsync(string serial, string fingerprint, CancellationToken ct)
    {
        var key = ByteString.CopyFromUtf8(_keys.HostKey(serial));
        var value = JsonSerializer.SerializeToUtf8Bytes(new PinnedHostKey(serial, fingerprint, time.GetUtcNow()), Json);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare
        {
            Key = key,
            Target = Compare.Types.CompareTarget.Create,
            Result = Compare.Types.CompareResult.Equal,
            CreateRevision = 0,
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(value) } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var r = await store.TxnAsync(txn, ct);
        return r.Succeeded ? fingerprint : Read(r.Responses[0].ResponseRange.Kvs[0].Value).Fingerprint;
    }

    public async Task<bool> ForgetAsync(string serial, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(_keys.HostKey(serial)) } });
        var r = await store.TxnAsync(txn, ct);
        return r.Responses[0].ResponseDeleteRange.Deleted > 0;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static PinnedHostKey Read(ByteString value) =>
        JsonSerializer.Deserialize<PinnedHostKey>(value.Span, Json) ?? throw new InvalidDataException("empty host-key record");
}
