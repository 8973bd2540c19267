using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Control;

/// <summary>
/// The cluster definition at <c>kube/cluster</c> (JSON), read by the controller each round and replaced by a
/// compare-and-swap on its mod revision (<c>/api/v1/cluster</c>, <c>nekkoctl cluster</c>).
/// </summary>
public sealed class ClusterDefinitionStore(EtcdStore store)
{
    private readonly string _key = store.Keys.Prefix + "kube/cluster";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>The definition and its mod revision; (null, 0) when none is stored.</summary>
    public async Task<(ClusterDefinition? Definition, long Revision)> GetAsync(CancellationToken ct)
    {
        var r = await store.GetAsync(_key, ct);
        return r.Kvs.Count == 0 ? (null, 0) : (JsonSerializer.Deserialize<ClusterDefinition>(r.Kvs[0].Value.Span, Json), r.Kvs[0].ModRevision);
    }

    /// <summary>
    /// Stores <paramref name="definition"/> if the stored one is still at <paramref name="expectedRevision"/> (0 = absent);
    /// false when it lost the race. <paramref name="alongside"/> (the API's audit entry) is written in the same transaction.
    /// </summary>
    public async Task<bool> PutAsync(ClusterDefinition definition, long expectedRevision, CancellationToken ct, IEnumerable<RequestOp>? alongside = null)
    {
        var key = ByteString.CopyFromUtf8(_key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare
        {
            Key = key,
            Target = Compare.Types.CompareTarget.Mod,
            Result = Compare.Types.CompareResult.Equal,
            ModRevision = expectedRevision,
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(definition, Json)) } });
        txn.Success.Add(alongside ?? []);
        return (await store.TxnAsync(txn, ct)).Succeeded;
    }
}

/// <summary>The inventory's machines as the planner's <see cref="InventoryNode"/>s.</summary>
public static class InventoryNodes
{
    /// <summary>Machines with a role and an address; the state mapped one to one.</summary>
    public static IReadOnlyList<InventoryNode> From(IEnumerable<Machine> machines)
    {
        ArgumentNullException.ThrowIfNull(machines);
        return [.. machines
            .Where(m => m.Role is { Length: > 0 } && m.Ipv4.Count > 0)
            .OrderBy(m => m.Serial, StringComparer.Ordinal)
            .Select(m => new InventoryNode(m.Serial, m.Ipv4[0], m.Role!, m.Labels, (NodeState)(int)m.State))];
    }
}
