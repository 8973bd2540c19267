using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.KubeInstaller.Execution.History;

/// <summary>Where operation records go (etcd in production; a list in unit tests).</summary>
public interface IOperationHistory
{
    Task RecordAsync(OperationRecord record, CancellationToken ct);

    /// <summary>The newest <paramref name="limit"/> records, oldest first.</summary>
    Task<IReadOnlyList<OperationRecord>> ListAsync(int limit, CancellationToken ct);
}

/// <summary>
/// The operation history in etcd at <c>kube/history/{unix-ms}-{seq}</c> (keys sort by time), bounded to
/// <see cref="MaxEntries"/>: after each write, the oldest entries beyond the bound are deleted.
/// </summary>
/// <remarks>
/// With <paramref name="leadership"/>, every record is written in a transaction fenced on the leadership key: a
/// deposed leader's records are refused (<see cref="Control.LeadershipLostException"/>).
/// </remarks>
public sealed class EtcdOperationHistory(EtcdStore store, int maxEntries = 1000, ILeadership? leadership = null) : IOperationHistory
{
    private readonly KubeKeys _keys = new(store.Keys);
    private long _sequence;

    public int MaxEntries => maxEntries;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public async Task RecordAsync(OperationRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        var key = _keys.HistoryEntry(record.FinishedAt, Interlocked.Increment(ref _sequence));
        var value = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(record, Json));
        if (leadership is null)
        {
            await store.PutAsync(key, value, ct);
        }
        else
        {
            var fence = leadership.Fence ?? throw new Control.LeadershipLostException("not the kube-installer leader: history not written");
            var txn = new TxnRequest();
            txn.Compare.Add(Control.Fencing.Compare(fence));
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value } });
            if (!(await store.TxnAsync(txn, ct)).Succeeded)
            {
                throw new Control.LeadershipLostException("not the kube-installer leader (fence check failed): history not written");
            }
        }

        await TrimAsync(ct);
    }

    private async Task TrimAsync(CancellationToken ct)
    {
        var prefix = _keys.HistoryPrefix;
        var count = (await store.RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(prefix)),
            CountOnly = true,
        }, ct)).Count;
        var excess = count - maxEntries;
        if (excess <= 0)
        {
            return;
        }

        var oldest = await store.RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(prefix)),
            KeysOnly = true,
            Limit = excess,
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
            SortTarget = RangeRequest.Types.SortTarget.Key,
        }, ct);
        if (oldest.Kvs.Count == 0)
        {
            return;
        }

        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp
        {
            RequestDeleteRange = new DeleteRangeRequest
            {
                Key = ByteString.CopyFromUtf8(prefix),
                RangeEnd = ByteString.CopyFrom([.. oldest.Kvs[^1].Key.Span, 0]),
            },
        });
        await store.TxnAsync(txn, ct);
    }

    public async Task<IReadOnlyList<OperationRecord>> ListAsync(int limit, CancellationToken ct)
    {
        var r = await store.GetNewestAsync(_keys.HistoryPrefix, limit, ct);
        return [.. r.Kvs.Reverse().Select(kv => JsonSerializer.Deserialize<OperationRecord>(kv.Value.Span, Json)!)];
    }
}
