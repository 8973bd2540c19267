using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.BootServer.Kube;
using NekkoMetal.KubeInstaller.Execution;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests.Kube;

/// <summary>The asset store as the installer's binary source and etcd-backup store, in a whole boot server on a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class KubeAssetStoreTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        _admin = _app.Client(await _app.AdminTokenAsync());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Binaries_are_read_from_the_asset_store_by_name()
    {
        var content = Encoding.ASCII.GetBytes("#!/bin/sh\necho etcd stand-in\n");
        var put = await _admin.PutAsync("/api/v1/assets/etcd-3.5.16", new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var source = _app.Services.GetRequiredService<AssetStoreSource>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                await using var stream = await source.OpenAsync("etcd-3.5.16", default);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                Assert.Equal(content, copy.ToArray());
                break;
            }
            catch (OperationFailedException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(50); // the catalog (a watch) has not seen the upload yet
            }
        }

        var missing = await Assert.ThrowsAsync<OperationFailedException>(() => source.OpenAsync("kubelet-1.31.2", default));
        Assert.Contains("nekkoctl assets upload kubelet-1.31.2", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_etcd_snapshot_becomes_an_asset_only_when_its_hash_and_size_match()
    {
        var store = _app.Services.GetRequiredService<AssetBackupStore>();
        var snapshot = RandomNumberGenerator.GetBytes(100_000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(snapshot));

        await Assert.ThrowsAsync<OperationFailedException>(() => store.StoreAsync("etcd-backup-bad.db", new MemoryStream(snapshot), new string('0', 64), snapshot.Length, default));
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/assets/etcd-backup-bad.db")).StatusCode);

        await store.StoreAsync("etcd-backup-good.db", new MemoryStream(snapshot), sha, snapshot.Length, default);
        var info = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/assets/etcd-backup-good.db");
        Assert.Equal(sha, info.GetProperty("sha256").GetString());
        Assert.Equal(snapshot.Length, info.GetProperty("size").GetInt64());
        Assert.Equal(AssetBackupStore.Actor, info.GetProperty("uploadedBy").GetString());
        Assert.Equal(snapshot, await _admin.GetByteArrayAsync("/api/v1/assets/etcd-backup-good.db/content"));
    }
}
