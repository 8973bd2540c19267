using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Execution.Secrets;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.Pki;
using NekkoMetal.Pki.BuiltIn;
using NekkoMetal.TestKit;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

/// <summary>The cluster's service-account key (made once by CAS, sealed under the KEK) and the etcd backup record, on a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class SecretsAndBackupsTests(EtcdFixture etcd) : IDisposable
{
    private readonly EtcdStore _store = new(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = EtcdFixture.NewPrefix() });
    private readonly string _dir = Directory.CreateTempSubdirectory("nekko-kube-secrets-").FullName;

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ServiceAccountKeyStore KeyStore(string dataDir) =>
        new(_store, new SecretSealer(new PkiOptions { DataDirectory = dataDir }), TimeProvider.System);

    [Fact]
    public async Task Racing_boot_servers_make_one_service_account_key_kept_sealed_in_etcd()
    {
        // eight servers sharing one KEK file (as boot servers of one cluster do) ask for the key at once
        var stores = Enumerable.Range(0, 8).Select(_ => KeyStore(_dir)).ToList();
        var pems = await Task.WhenAll(stores.Select(s => s.GetOrCreatePrivateKeyPemAsync(default)));
        Assert.Single(pems.Distinct(StringComparer.Ordinal));

        using var rsa = RSA.Create();
        rsa.ImportFromPem(pems[0]);
        Assert.Equal(2048, rsa.KeySize);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pems[0], StringComparison.Ordinal);
        var record = (await stores[0].GetRecordAsync(default))!;
        Assert.Equal(rsa.ExportSubjectPublicKeyInfoPem() + "\n", record.PublicKeyPem);

        // what etcd holds does not contain the private key
        var raw = (await _store.GetAsync(new KubeKeys(_store.Keys).ServiceAccountKey, default)).Kvs.Single().Value.ToByteArray();
        var der = rsa.ExportPkcs8PrivateKey();
        Assert.DoesNotContain("PRIVATE KEY", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        Assert.Equal(-1, raw.AsSpan().IndexOf(der.AsSpan(40, 64)));
        Assert.Equal(pems[0], await KeyStore(_dir).GetOrCreatePrivateKeyPemAsync(default)); // read again, never replaced
    }

    [Fact]
    public async Task A_boot_server_with_another_kek_cannot_open_the_key_and_says_so()
    {
        await KeyStore(_dir).GetOrCreatePrivateKeyPemAsync(default);
        var other = Directory.CreateTempSubdirectory("nekko-kube-otherkek-").FullName;
        try
        {
            new SecretSealer(new PkiOptions { DataDirectory = other }).Seal([1], "make-a-kek"); // a server whose KEK file differs
            var e = await Assert.ThrowsAsync<KeyEncryptionKeyException>(() => KeyStore(other).GetOrCreatePrivateKeyPemAsync(default));
            Assert.Contains("copy the KEK file", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task Backups_are_recorded_newest_first_bounded_and_the_last_becomes_the_planners_backup()
    {
        var log = new EtcdBackupLog(_store, maxEntries: 3);
        Assert.Null(await log.LastAsync(default));
        var t0 = DateTimeOffset.Parse("2026-11-25T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 5; i++)
        {
            var at = t0.AddMinutes(i);
            await log.RecordAsync(new EtcdBackupRecord(EtcdBackupLog.NameFor(at, $"1.3{i}.0", "3.5.16"), $"1.3{i}.0", "3.5.16", at, new string('a', 64), 100 + i, "cp-1", 10 + i), default);
        }

        var list = await log.ListAsync(10, default);
        Assert.Equal(["1.34.0", "1.33.0", "1.32.0"], list.Select(b => b.KubernetesVersion));
        Assert.Equal(new EtcdBackup("1.34.0", "3.5.16", t0.AddMinutes(4)), await log.LastAsync(default));

        // the hosted installer's prober wrapper adds it to what was observed, and keeps the round
        var clock = new FakeTimeProvider(t0.AddHours(1));
        var prober = new ObservingProber(new EmptyProber(), log, clock);
        var observed = await prober.ProbeAsync([], default);
        Assert.Equal("1.34.0", observed.LastEtcdBackup!.KubernetesVersion);
        Assert.Equal(t0.AddHours(1), prober.Last!.At);
    }

    [Theory]
    [InlineData("1.31.2", "3.5.16", "etcd-backup-20261125T100000Z-k1.31.2-e3.5.16.db")]
    [InlineData("v1.31.2+k3s1", "3.5.16/x", "etcd-backup-20261125T100000Z-kv1.31.2-k3s1-e3.5.16-x.db")]
    public void Backup_names_are_valid_asset_names(string kubernetes, string etcdVersion, string expected)
    {
        var name = EtcdBackupLog.NameFor(DateTimeOffset.Parse("2026-11-25T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), kubernetes, etcdVersion);
        Assert.Equal(expected, name);
        AssetName.Check(name);
        AssetName.Check(EtcdBackupLog.NameFor(DateTimeOffset.UnixEpoch, new string('9', 200), new string('8', 200)));
    }

    [Fact]
    public async Task A_directory_store_keeps_only_content_of_the_announced_hash_and_size()
    {
        var store = new DirectoryBackupStore(Path.Combine(_dir, "backups"));
        var content = Encoding.ASCII.GetBytes("snapshot bytes");
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        await Assert.ThrowsAsync<OperationFailedException>(() => store.StoreAsync("a.db", new MemoryStream(content), new string('0', 64), content.Length, default));
        await Assert.ThrowsAsync<OperationFailedException>(() => store.StoreAsync("a.db", new MemoryStream(content), sha, content.Length + 1, default));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "backups"))); // no leftovers
        await store.StoreAsync("a.db", new MemoryStream(content), sha, content.Length, default);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_dir, "backups", "a.db")));
    }

    [Theory]
    [InlineData("""{"hash":3841289475,"revision":42,"totalKey":17,"totalSize":25600}""", 42)]
    [InlineData("Deprecated: Use `etcdutl snapshot status` instead.\n\n{\"hash\":1,\"revision\":7,\"totalKey\":1,\"totalSize\":20480}\n", 7)]
    public void Snapshot_status_gives_the_revision(string output, long revision) =>
        Assert.Equal(revision, OperationRunner.SnapshotRevision(output));

    [Theory]
    [InlineData("Error: snapshot file integrity check failed")]
    [InlineData("{\"hash\":1}")]
    public void A_snapshot_status_without_a_revision_fails_the_backup(string output) =>
        Assert.Throws<OperationFailedException>(() => OperationRunner.SnapshotRevision(output));

    private sealed class EmptyProber : IClusterProber
    {
        public Task<ObservedCluster> ProbeAsync(IReadOnlyList<InventoryNode> inventory, CancellationToken ct) => Task.FromResult(ObservedCluster.Empty);
    }
}
