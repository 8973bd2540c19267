using Etcdserverpb;
using Google.Protobuf;

namespace NekkoMetal.Inventory.Storage;

/// <summary>Small builders for etcd transactions: every inventory write is one of these.</summary>
internal static class Txn
{
    public static Compare Absent(string key) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = 0,
    };

    public static Compare Exists(string key) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Greater,
        CreateRevision = 0,
    };

    public static Compare ModRevisionIs(string key, long revision) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Mod,
        Result = Compare.Types.CompareResult.Equal,
        ModRevision = revision,
    };

    /// <summary>The key exists with exactly this create revision (a leader's fence: see <see cref="Leadership.LeaderFence"/>).</summary>
    public static Compare CreateRevisionIs(string key, long revision) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };

    public static RequestOp Put(string key, ByteString value) =>
        new() { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value } };

    public static RequestOp Put(string key, string value) => Put(key, ByteString.CopyFromUtf8(value));

    public static RequestOp Delete(string key) =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    public static RequestOp Get(string key) =>
        new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key) } };
}
