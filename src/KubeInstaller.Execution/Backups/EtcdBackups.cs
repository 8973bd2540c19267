using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Etcdserverpb;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Backups;

/// <summary>
/// One etcd snapshot the installer took (<c>BackupEtcd</c>), at <c>kube/backups/{unix-ms}</c>.
/// </summary>
/// <param name="Name">Name in the backup store (the boot servers' asset store: <c>nekkoctl assets download NAME</c>).</param>
/// <param name="KubernetesVersion">The target versions of the upgrade it was taken before.</param>
/// <param name="Member">The etcd member it was taken from.</param>
/// <param name="Revision">etcd's revision in the snapshot (<c>snapshot status</c>).</param>
public sealed record EtcdBackupRecord(
    string Name,
    string KubernetesVersion,
    string EtcdVersion,
    DateTimeOffset TakenAt,
    string Sha256,
    long Size,
    string Member,
    long Revision);

/// <summary>Where snapshots are kept: the boot servers' asset store in production, a directory in tests.</summary>
public interface IEtcdBackupStore
{
    /// <summary>
    /// Stores <paramref name="content"/> under <paramref name="name"/>; it must hash to <paramref name="sha256"/> and be
    /// <paramref name="size"/> bytes, else nothing is stored and <see cref="OperationFailedException"/> is thrown.
    /// </summary>
    Task StoreAsync(string name, Stream content, string sha256, long size, CancellationToken ct);
}

/// <summary>Snapshots as files of one directory, written to a temporary file, checked, then renamed.</summary>
public sealed class DirectoryBackupStore(string root) : IEtcdBackupStore
{
    public async Task StoreAsync(string name, Stream content, string sha256, long size, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        Directory.CreateDirectory(root);
        var temp = Path.Combine(root, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            string actual;
            long length;
            await using (var file = File.Create(temp))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                length = file.Length;
                actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (actual != sha256 || length != size)
            {
                throw new OperationFailedException($"backup {name}: received {length} bytes with SHA-256 {actual}, expected {size} bytes with {sha256}; not stored");
            }

            File.Move(temp, Path.Combine(root, name), overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}

/// <summary>
/// The record of etcd snapshots in etcd (<c>kube/backups/</c>, newest kept, bounded to <paramref name="maxEntries"/>):
/// the prober reads the last one as <see cref="ObservedCluster.LastEtcdBackup"/>, so the planner backs up once per
/// upgrade target and then proceeds.
/// </summary>
public sealed class EtcdBackupLog(EtcdStore store, int maxEntries = 50)
{
    private readonly KubeKeys _keys = new(store.Keys);

    public async Task RecordAsync(EtcdBackupRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        await store.PutAsync(_keys.Backup(record.TakenAt), InventoryJson.ToBytes(record), ct);
        var all = await store.GetPrefixAsync(_keys.BackupsPrefix, ct, keysOnly: true);
        var excess = all.Kvs.Count - maxEntries;
        if (excess > 0)
        {
            var txn = new TxnRequest();
            foreach (var kv in all.Kvs.OrderBy(k => k.Key.ToStringUtf8(), StringComparer.Ordinal).Take(excess))
            {
                txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } });
            }

            await store.TxnAsync(txn, ct);
        }
    }

    /// <summary>The newest <paramref name="limit"/> records, newest first.</summary>
    public async Task<IReadOnlyList<EtcdBackupRecord>> ListAsync(int limit, CancellationToken ct)
    {
        var r = await store.GetNewestAsync(_keys.BackupsPrefix, limit, ct);
        return [.. r.Kvs.Select(kv => JsonSerializer.Deserialize<EtcdBackupRecord>(kv.Value.Span, InventoryJson.Options)!)];
    }

    /// <summary>The last snapshot as the planner sees it (<see cref="ObservedCluster.LastEtcdBackup"/>); null when none was taken.</summary>
    public async Task<EtcdBackup?> LastAsync(CancellationToken ct) =>
        (await ListAsync(1, ct)) is [var last] ? new EtcdBackup(last.KubernetesVersion, last.EtcdVersion, last.TakenAt) : null;

    /// <summary>
    /// The store name of a snapshot: <c>etcd-backup-{yyyyMMddTHHmmssZ}-k{kubernetes}-e{etcd}.db</c>, characters an asset
    /// name does not allow replaced by <c>-</c>.
    /// </summary>
    public static string NameFor(DateTimeOffset takenAt, string kubernetesVersion, string etcdVersion)
    {
        static string Clean(string v)
        {
            var s = new string([.. v.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-')]);
            return s.Length > 40 ? s[..40] : s;
        }

        return $"etcd-backup-{takenAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-k{Clean(kubernetesVersion)}-e{Clean(etcdVersion)}.db";
    }
}
