using System.Globalization;
using System.Text.Json;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

public sealed partial class OperationRunner
{
    /// <summary>Directory on the member where a snapshot is written before it is fetched (and then deleted).</summary>
    public const string RemoteBackupDir = "/var/lib/nekko/backups";

    /// <summary>Where snapshots go; without it (and <see cref="BackupLog"/>) <c>BackupEtcd</c> fails clearly.</summary>
    public IEtcdBackupStore? BackupStore { get; init; }

    /// <summary>Where snapshots are recorded (the prober's <see cref="ObservedCluster.LastEtcdBackup"/>).</summary>
    public EtcdBackupLog? BackupLog { get; init; }

    /// <summary>How long <c>etcdctl snapshot save</c> may take.</summary>
    public TimeSpan SnapshotTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// <c>etcdctl snapshot save</c> on a healthy voting member (its own certificate, its local endpoint), checked by
    /// <c>snapshot status</c> there, fetched over SFTP, its SHA-256 and size compared with what the member computed,
    /// stored, recorded in etcd with the target versions; the member's copy is deleted in every case. Running it
    /// again takes another snapshot (and records it): harmless, and the planner asks only while no snapshot for the
    /// target versions is recorded.
    /// </summary>
    private async Task BackupEtcdAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var (store, log) = (BackupStore, BackupLog) is ({ } s, { } l)
            ? (s, l)
            : throw new OperationFailedException($"{op.Description}: no etcd backup store is configured in this executor");
        var kubernetesVersion = Required(op, P.KubernetesVersion);
        var etcdVersion = Required(op, P.EtcdVersion);
        var via = await HealthyVoterAsync(op, inventory, exceptName: null, ct);
        var takenAt = time.GetUtcNow();
        var name = EtcdBackupLog.NameFor(takenAt, kubernetesVersion, etcdVersion);
        var remote = RemoteBackupDir + "/" + name;
        var quoted = ShellQuoting.Quote(remote);
        try
        {
            var seconds = ((int)SnapshotTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            // the later --command-timeout overrides EtcdCtl's short default (pflag: the last one wins)
            await via.RunCheckedAsync(
                $"mkdir -p {ShellQuoting.Quote(RemoteBackupDir)} && chmod 700 {ShellQuoting.Quote(RemoteBackupDir)} && " +
                EtcdCtl.Local("snapshot", "save", remote, $"--command-timeout={seconds}s"),
                SnapshotTimeout + TimeSpan.FromSeconds(10), ct);
            var status = await via.RunCheckedAsync(
                $"if command -v etcdutl >/dev/null 2>&1; then etcdutl snapshot status {quoted} -w json; else ETCDCTL_API=3 etcdctl snapshot status {quoted} -w json; fi",
                TimeSpan.FromMinutes(2), ct);
            var revision = SnapshotRevision(status);
            var sum = (await via.RunCheckedAsync("sha256sum " + quoted, TimeSpan.FromMinutes(2), ct)).Split(' ', 2)[0].Trim().ToLowerInvariant();
            var size = long.Parse((await via.RunCheckedAsync("stat -c %s " + quoted, ct: ct)).Trim(), CultureInfo.InvariantCulture);

            var local = Path.Combine(Path.GetTempPath(), $"nekko-etcd-backup-{Guid.NewGuid():N}.db");
            await using (var file = new FileStream(local, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose))
            {
                await via.DownloadAsync(remote, file, size, ct);
                file.Position = 0;
                await store.StoreAsync(name, file, sum, size, ct); // checks the hash and size of what arrived
            }

            await log.RecordAsync(new EtcdBackupRecord(name, kubernetesVersion, etcdVersion, takenAt, sum, size, via.Node.Name, revision), ct);
        }
        finally
        {
            try
            {
                await via.RunAsync("rm -f " + quoted, TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            catch (KubeExecutionException)
            {
                // the connection broke: the file stays in RemoteBackupDir; the outcome of the backup matters more
            }
        }
    }

    /// <summary>The revision from <c>snapshot status -w json</c> (<c>{"hash":…,"revision":…,"totalKey":…,"totalSize":…}</c>); a snapshot it cannot read fails.</summary>
    internal static long SnapshotRevision(string json)
    {
        try
        {
            var line = json.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{')) ?? "";
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("revision").GetInt64();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new OperationFailedException($"etcd snapshot status did not describe the snapshot: {json.Trim()}", inner: e);
        }
    }
}
