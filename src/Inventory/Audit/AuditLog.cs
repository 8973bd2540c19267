using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Audit;

/// <summary>
/// Writes audit entries inside the same transaction as the change they describe (so there is never a change
/// without its entry, nor an entry without its change), and reads them back by time and machine.
/// </summary>
public sealed class AuditLog(EtcdStore store, TimeProvider time)
{
    private readonly EtcdKeys _keys = store.Keys;

    public AuditEntry Create(string actor, string action, string? serial, object? before, object? after, string? reason = null) => new()
    {
        Id = Guid.NewGuid().ToString("N")[..12],
        Time = time.GetUtcNow(),
        Actor = actor,
        Action = action,
        Serial = serial,
        Reason = reason,
        Before = before is null ? null : InventoryJson.ToElement(before),
        After = after is null ? null : InventoryJson.ToElement(after),
    };

    /// <summary>The puts that record <paramref name="entry"/>: by time and, for a machine, by machine.</summary>
    public IEnumerable<RequestOp> Ops(AuditEntry entry)
    {
        var value = InventoryJson.ToBytes(entry);
        var suffix = EtcdKeys.AuditSuffix(entry.Time, entry.Id);
        yield return Txn.Put(_keys.AuditPrefix + suffix, value);
        if (entry.Serial is not null)
        {
            yield return Txn.Put(_keys.AuditByMachine(entry.Serial) + suffix, value);
        }
    }

    /// <summary>Newest first, at most <see cref="AuditQuery.Limit"/> entries.</summary>
    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > AuditQuery.MaxLimit)
        {
            throw new ValidationException("limit", $"must be between 1 and {AuditQuery.MaxLimit}");
        }

        if (query.Serial is not null && !Machines.MachineValidator.IsValidSerial(query.Serial))
        {
            throw new ValidationException("serial", "is not a valid serial");
        }

        if (query.Since is { } s && query.Until is { } u && s > u)
        {
            throw new ValidationException("since", "must not be after until");
        }

        var prefix = query.Serial is null ? _keys.AuditPrefix : _keys.AuditByMachine(query.Serial);
        var start = query.Since is { } since ? prefix + EtcdKeys.AuditTimeBound(since) : prefix;
        var end = query.Until is { } until ? prefix + EtcdKeys.AuditTimeBound(until.AddTicks(1)) : EtcdKeys.RangeEnd(prefix);
        var response = await store.RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(start),
            RangeEnd = ByteString.CopyFromUtf8(end),
            Limit = query.Limit,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            SortTarget = RangeRequest.Types.SortTarget.Key,
        }, ct);
        var result = new List<AuditEntry>(response.Kvs.Count);
        foreach (var kv in response.Kvs)
        {
            try
            {
                result.Add(InventoryJson.FromBytes<AuditEntry>(kv.Value));
            }
            catch (JsonException)
            {
                // an entry this build cannot read is skipped, never fatal for the query
            }
        }

        return result;
    }
}
