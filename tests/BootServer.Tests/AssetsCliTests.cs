using System.Text.Json;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary><c>nekkoctl assets</c> against a whole boot server (in process) and a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class AssetsCliTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("nekkoctl-assets-e2e-").FullName;
    private BootServerApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        await _app.AdminTokenAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private Task<(int Code, string Out, string Err)> Nekkoctl(params string[] args) => _app.NekkoctlAsync(args);

    [Fact]
    public async Task UploadListGetDownloadDelete()
    {
        var data = AssetsApiTests.RandomBytes(5 << 20); // above the API's 4 MiB JSON body limit
        var source = Path.Combine(_work, "image.raw");
        await File.WriteAllBytesAsync(source, data);

        var upload = await Nekkoctl("assets", "upload", "image.raw", source, "--content-type", "application/x-raw-disk-image");
        Assert.True(upload.Code == 0, upload.Err);
        Assert.Contains("image.raw", upload.Out);
        Assert.Contains("5.0 MiB", upload.Out);

        var list = await Nekkoctl("assets", "list");
        Assert.Equal(0, list.Code);
        Assert.Contains(AssetsApiTests.Sha(data)[..16], list.Out);

        var get = await Nekkoctl("assets", "get", "image.raw", "-o", "json");
        Assert.Equal(0, get.Code);
        var meta = JsonDocument.Parse(get.Out).RootElement;
        Assert.Equal(AssetsApiTests.Sha(data), meta.GetProperty("sha256").GetString());
        Assert.Equal("application/x-raw-disk-image", meta.GetProperty("contentType").GetString());

        var target = Path.Combine(_work, "copy.raw");
        var download = await Nekkoctl("assets", "download", "image.raw", target);
        Assert.True(download.Code == 0, download.Err);
        Assert.Equal(data, await File.ReadAllBytesAsync(target));

        var bad = await Nekkoctl("assets", "upload", "../etc", source);
        Assert.Equal(1, bad.Code);
        Assert.Contains("name", bad.Err);

        Assert.Equal(0, (await Nekkoctl("assets", "delete", "image.raw")).Code);
        var missing = await Nekkoctl("assets", "get", "image.raw");
        Assert.Equal(1, missing.Code);
        Assert.Contains("not found", missing.Err);
    }
}
