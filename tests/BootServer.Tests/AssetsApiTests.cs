using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The asset store through the admin API and /boot/assets on one boot server (in process) and a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class AssetsApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, _prefix, new Dictionary<string, string?> { ["maxAssetBytes"] = (8L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _admin = _app.Client(await _app.AdminTokenAsync());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    private string ContentDir => Path.Combine(_app.DataDir, "assets", "sha256");

    private string TempDir => Path.Combine(_app.DataDir, "assets", "tmp");

    internal static byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        new Random(n).NextBytes(b);
        return b;
    }

    internal static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private async Task<HttpResponseMessage> Upload(string name, byte[] data, string? checksum = null, bool chunked = false, string? contentType = null)
    {
        HttpContent content = chunked ? new StreamContent(new NoLengthStream(data)) : new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/assets/" + name) { Content = content };
        if (checksum is not null)
        {
            request.Headers.Add("X-Checksum-Sha256", checksum);
        }

        return await _admin.SendAsync(request);
    }

    private async Task AssertNothingStoredAsync()
    {
        var list = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/assets");
        Assert.Equal(0, list.GetArrayLength());
        Assert.Empty(Directory.Exists(ContentDir) ? Directory.GetFiles(ContentDir) : []);
        Assert.Empty(Directory.Exists(TempDir) ? Directory.GetFiles(TempDir) : []);
        using var store = new EtcdStore(new Inventory.InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix });
        Assert.Equal(0, (await store.GetPrefixAsync(store.Keys.AssetsPrefix, default)).Count);
    }

    [Fact]
    public async Task Upload_Download_RoundTrip_HashChecked_AndAudited()
    {
        var data = RandomBytes(3 << 20);
        var sha = Sha(data);
        using var put = await Upload("kernel-6.1.vmlinuz", data, checksum: sha.ToUpperInvariant(), contentType: "application/x-kernel");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var meta = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("kernel-6.1.vmlinuz", meta.GetProperty("name").GetString());
        Assert.Equal(sha, meta.GetProperty("sha256").GetString());
        Assert.Equal(data.Length, meta.GetProperty("size").GetInt64());
        Assert.Equal("application/x-kernel", meta.GetProperty("contentType").GetString());
        Assert.Equal("admin", meta.GetProperty("uploadedBy").GetString());
        Assert.True(File.Exists(Path.Combine(ContentDir, sha)));

        using var boot = _app.CreateClient(); // no token: the firmware path
        using var get = await boot.GetAsync("/boot/assets/kernel-6.1.vmlinuz");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal($"\"{sha}\"", get.Headers.ETag?.ToString());
        Assert.Equal(data.Length, get.Content.Headers.ContentLength);
        Assert.Equal("application/x-kernel", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(sha, Sha(await get.Content.ReadAsByteArrayAsync()));
        Assert.Equal("bytes", get.Headers.AcceptRanges.Single());

        using var viaApi = await _admin.GetAsync("/api/v1/assets/kernel-6.1.vmlinuz/content");
        Assert.Equal(sha, Sha(await viaApi.Content.ReadAsByteArrayAsync()));
        var one = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/assets/kernel-6.1.vmlinuz");
        Assert.Equal(sha, one.GetProperty("sha256").GetString());
        var list = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/assets");
        Assert.Equal("kernel-6.1.vmlinuz", list.EnumerateArray().Single().GetProperty("name").GetString());

        // The same name again with other content replaces it (200); the old content is no longer needed and goes.
        var other = RandomBytes(1000);
        using var replace = await Upload("kernel-6.1.vmlinuz", other);
        Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
        await Eventually(() => !File.Exists(Path.Combine(ContentDir, sha)), "the replaced content is removed");
        using var again = await boot.GetAsync("/boot/assets/kernel-6.1.vmlinuz");
        Assert.Equal(Sha(other), Sha(await again.Content.ReadAsByteArrayAsync()));

        var audit = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/audit");
        var actions = audit.EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains(AssetRepository.ActionCreate, actions);
        Assert.Contains(AssetRepository.ActionUpdate, actions);

        // Delete: gone from the API and the boot path, content removed from disk.
        using var delete = await _admin.DeleteAsync("/api/v1/assets/kernel-6.1.vmlinuz");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await boot.GetAsync("/boot/assets/kernel-6.1.vmlinuz");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await Eventually(() => Directory.GetFiles(ContentDir).Length == 0, "the deleted content is removed");
        using var deleteAgain = await _admin.DeleteAsync("/api/v1/assets/kernel-6.1.vmlinuz");
        Assert.Equal(HttpStatusCode.NotFound, deleteAgain.StatusCode);
    }

    [Fact]
    public async Task RangeRequests_206_416_And_IfNoneMatch_304()
    {
        var data = RandomBytes(100_000);
        var sha = Sha(data);
        (await Upload("initrd.img", data)).EnsureSuccessStatusCode();
        using var boot = _app.CreateClient();

        async Task<HttpResponseMessage> Get(Action<HttpRequestMessage> configure)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/boot/assets/initrd.img");
            configure(request);
            return await boot.SendAsync(request);
        }

        using var middle = await Get(r => r.Headers.Range = new RangeHeaderValue(1000, 1999));
        Assert.Equal(HttpStatusCode.PartialContent, middle.StatusCode);
        Assert.Equal(1000, middle.Content.Headers.ContentLength);
        Assert.Equal($"bytes 1000-1999/{data.Length}", middle.Content.Headers.ContentRange?.ToString());
        Assert.Equal(data.AsSpan(1000, 1000).ToArray(), await middle.Content.ReadAsByteArrayAsync());

        using var tail = await Get(r => r.Headers.Range = new RangeHeaderValue(null, 10));
        Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
        Assert.Equal(data[^10..], await tail.Content.ReadAsByteArrayAsync());

        using var open = await Get(r => r.Headers.Range = new RangeHeaderValue(99_990, null));
        Assert.Equal(data[99_990..], await open.Content.ReadAsByteArrayAsync());

        using var beyond = await Get(r => r.Headers.Range = new RangeHeaderValue(200_000, null));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        Assert.Equal($"bytes */{data.Length}", beyond.Content.Headers.ContentRange?.ToString());

        using var cached = await Get(r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\"")));
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        Assert.Empty(await cached.Content.ReadAsByteArrayAsync());

        using var stale = await Get(r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0000\"")));
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);

        using var head = await boot.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/boot/assets/initrd.img"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(data.Length, head.Content.Headers.ContentLength);
    }

    [Theory] // ("." and ".." never reach the server: clients and Kestrel remove dot segments; AssetName_Table covers them)
    [InlineData("..%2Fetc%2Fpasswd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("a%5Cb")]
    [InlineData("..%5C..%5Cwindows")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("sp%20ace")]
    public async Task PathLikeOrBadNames_Rejected_400_NothingChanged(string encodedName)
    {
        using var put = await Upload(encodedName, RandomBytes(10));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        using var get = await _admin.GetAsync("/api/v1/assets/" + encodedName);
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        using var boot = await _app.CreateClient().GetAsync("/boot/assets/" + encodedName);
        Assert.Equal(HttpStatusCode.BadRequest, boot.StatusCode);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("vmlinuz", true)]
    [InlineData("debian-12.iso", true)]
    [InlineData("a_b-c.D9", true)]
    [InlineData("..", false)]
    [InlineData(".", false)]
    [InlineData("", false)]
    [InlineData("../x", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("C:\\x", false)]
    [InlineData("a\0b", false)]
    [InlineData("ä", false)]
    public void AssetName_Table(string name, bool valid)
    {
        Assert.Equal(valid, AssetName.IsValid(name));
        Assert.True(AssetName.IsValid(new string('a', 128)));
        Assert.False(AssetName.IsValid(new string('a', 129)));
    }

    [Fact]
    public async Task WrongChecksum_400_NothingVisible()
    {
        using var put = await Upload("wrong", RandomBytes(5000), checksum: new string('0', 64));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("X-Checksum-Sha256", await put.Content.ReadAsStringAsync());
        using var malformed = await Upload("wrong", RandomBytes(5000), checksum: "abc");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task OverTheSizeLimit_413_WithOrWithoutContentLength_NothingVisible()
    {
        var data = RandomBytes((8 << 20) + 1);
        using var known = await Upload("big", data);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, known.StatusCode);
        Assert.Contains("max-asset-bytes", await known.Content.ReadAsStringAsync());
        using var streamed = await Upload("big", data, chunked: true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        await AssertNothingStoredAsync();

        // Exactly at the limit is fine, and larger than the API's 4 MiB JSON body limit.
        using var atLimit = await Upload("big", data[..(8 << 20)], chunked: true);
        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
    }

    [Fact]
    public async Task InterruptedUpload_LeavesNothingVisible_NoTempFile()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/assets/interrupted") { Content = new StreamContent(new FailingStream(2 << 20)) };
        await Assert.ThrowsAnyAsync<Exception>(() => _admin.SendAsync(request));
        await Eventually(() => Directory.GetFiles(TempDir).Length == 0, "the temp file is removed");
        await AssertNothingStoredAsync();
        using var get = await _admin.GetAsync("/api/v1/assets/interrupted");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task ViewerCanReadButNotWrite()
    {
        (await Upload("readable", RandomBytes(10))).EnsureSuccessStatusCode();
        using var created = await _admin.PostAsJsonAsync("/api/v1/tokens", new { name = "look", role = "viewer" });
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var viewer = _app.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/assets/readable")).StatusCode);
        using var put = await viewer.PutAsync("/api/v1/assets/other", new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync("/api/v1/assets/readable")).StatusCode);
        using var anonymous = _app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/assets")).StatusCode);
    }

    internal static async Task Eventually(Func<bool> condition, string what, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>A body without a known length (sent chunked).</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    /// <summary>Yields <c>good</c> bytes, then fails as a dropped connection would.</summary>
    private sealed class FailingStream(int good) : Stream
    {
        private int _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= good)
            {
                throw new IOException("connection dropped (test)");
            }

            var n = Math.Min(count, good - _sent);
            Array.Fill(buffer, (byte)7, offset, n);
            _sent += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
