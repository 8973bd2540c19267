using System.Globalization;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.KubeInstaller.Execution;

/// <summary>
/// The installer's etcd keys, under the inventory prefix (see docs/etcd-schema.md):
/// <c>kube/hostkeys/{serial}</c> — JSON <see cref="HostKeys.PinnedHostKey"/>;
/// <c>kube/history/{unix-ms:D15}-{seq:D6}</c> — JSON <see cref="History.OperationRecord"/>, oldest first, bounded;
/// <c>kube/service-account-key</c> — JSON <see cref="Secrets.ServiceAccountKeyRecord"/>, created once (private key sealed);
/// <c>kube/backups/{unix-ms:D15}</c> — JSON <see cref="Backups.EtcdBackupRecord"/>, one per etcd snapshot, bounded.
/// </summary>
public sealed class KubeKeys(EtcdKeys keys)
{
    public string HostKeysPrefix => keys.Prefix + "kube/hostkeys/";

    public string HostKey(string serial) => HostKeysPrefix + serial;

    public string HistoryPrefix => keys.Prefix + "kube/history/";

    public string HistoryEntry(DateTimeOffset at, long sequence) =>
        HistoryPrefix + at.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture) + "-" +
        (sequence % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);

    public string ServiceAccountKey => keys.Prefix + "kube/service-account-key";

    public string BackupsPrefix => keys.Prefix + "kube/backups/";

    public string Backup(DateTimeOffset takenAt) =>
        BackupsPrefix + takenAt.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture);
}
