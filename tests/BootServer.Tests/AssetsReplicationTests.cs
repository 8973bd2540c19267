using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Two real nekko-bootserver processes on one etcd (the shared fixture, one prefix): an asset uploaded to A is
/// served by B (redirected to A at first, then from B's own copy once it has fetched and verified it); deleted on A,
/// B stops serving it and removes its copy. And an upload cut off mid-stream (a real socket closed on Kestrel)
/// leaves nothing visible and no temp file.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class AssetsReplicationTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly List<ServerProcess> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _servers)
        {
            await s.DisposeAsync();
        }
    }

    private async Task<ServerProcess> StartAsync(string name)
    {
        var server = new ServerProcess(name, etcd.Endpoint, _prefix);
        _servers.Add(server);
        await server.StartAsync();
        return server;
    }

    /// <summary>With a token: the API over HTTPS, trusting the server's ca.pem. Without: plain HTTP, as firmware.</summary>
    private static HttpClient Client(ServerProcess s, string? token, bool followRedirects = true) =>
        token is not null
            ? s.Process.ApiClient(token, followRedirects)
            : new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = followRedirects }) { BaseAddress = new Uri(s.Url), Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task UploadToA_DownloadFromB_DeleteOnA_BStopsServing()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var token = await a.AdminTokenAsync();
        using var adminA = Client(a, token);
        using var bootB = Client(b, null);
        using var bootBNoRedirect = Client(b, null, followRedirects: false);

        // Both servers see each other in the registry.
        await AssetsApiTests.Eventually(() => ServerIds().Result.Count == 2, "both boot servers are registered");

        var data = AssetsApiTests.RandomBytes(6 << 20);
        var sha = AssetsApiTests.Sha(data);
        using var content = new ByteArrayContent(data);
        using var put = new HttpRequestMessage(HttpMethod.Put, "/api/v1/assets/os.img") { Content = content };
        put.Headers.Add("X-Checksum-Sha256", sha);
        using var uploaded = await adminA.SendAsync(put);
        Assert.True(uploaded.StatusCode == HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync() + a.Log());

        // B serves it at once: redirected to A while it has no copy, or from its own copy.
        using (var first = await bootB.GetAsync("/boot/assets/os.img"))
        {
            Assert.True(first.StatusCode == HttpStatusCode.OK, $"{first.StatusCode} {await first.Content.ReadAsStringAsync()} {b.Log()}");
            Assert.Equal(sha, AssetsApiTests.Sha(await first.Content.ReadAsByteArrayAsync()));
        }

        // B fetches, verifies and keeps a copy, then serves it itself (no redirect) with Range.
        await AssetsApiTests.Eventually(() => File.Exists(Path.Combine(b.DataDir, "assets", "sha256", sha)), "B has its own copy", 60);
        using (var own = await bootBNoRedirect.GetAsync("/boot/assets/os.img"))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            Assert.Equal(sha, AssetsApiTests.Sha(await own.Content.ReadAsByteArrayAsync()));
        }

        using (var range = new HttpRequestMessage(HttpMethod.Get, "/boot/assets/os.img"))
        {
            range.Headers.Range = new RangeHeaderValue(5, 14);
            using var partial = await bootBNoRedirect.SendAsync(range);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(data[5..15], await partial.Content.ReadAsByteArrayAsync());
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(b.DataDir, "assets", "tmp")));
        await AssetsApiTests.Eventually(() => Holders(sha).Result.Count == 2, "both servers announce they hold the content");

        // Delete on A: B stops serving it and removes its copy; so does A.
        using var deleted = await adminA.DeleteAsync("/api/v1/assets/os.img");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssetsApiTests.Eventually(() => bootBNoRedirect.GetAsync("/boot/assets/os.img").Result.StatusCode == HttpStatusCode.NotFound, "B answers 404");
        await AssetsApiTests.Eventually(() => !File.Exists(Path.Combine(b.DataDir, "assets", "sha256", sha)), "B removed its copy");
        await AssetsApiTests.Eventually(() => !File.Exists(Path.Combine(a.DataDir, "assets", "sha256", sha)), "A removed its copy");
        await AssetsApiTests.Eventually(() => Holders(sha).Result.Count == 0, "no server announces the content any more");

        // A stopped cleanly revokes its lease: B no longer sees it.
        await a.StopAsync();
        await AssetsApiTests.Eventually(() => ServerIds().Result.Count == 1, "A left the registry", 30);
    }

    /// <summary>
    /// On a real Kestrel socket a plain whole-file GET of a large asset is answered with sendfile(2) before Kestrel's
    /// HTTP layer (AssetConnectionPath) and the connection stays open: pipelined and sequential downloads on one
    /// connection, byte for byte. Range, conditional, HEAD, small files, unknown assets and malformed heads are left to
    /// Kestrel (206, 304, 404, 400) — on the same connection, after which a whole-file GET goes through
    /// SendFileResult, which closes. "Connection: close" from the client is honoured.
    /// </summary>
    [Fact]
    public async Task WholeFileGet_IsSentWithSendfile_OnAKeptConnection_OtherRequestsByKestrel()
    {
        var a = await StartAsync("sendfile");
        var token = await a.AdminTokenAsync();
        using var admin = Client(a, token);
        var big = AssetsApiTests.RandomBytes(3 << 20);
        var small = AssetsApiTests.RandomBytes(1000);
        foreach (var (name, bytes) in new[] { ("big.img", big), ("small.bin", small) })
        {
            using var content = new ByteArrayContent(bytes);
            using var put = new HttpRequestMessage(HttpMethod.Put, "/api/v1/assets/" + name) { Content = content };
            put.Headers.Add("X-Checksum-Sha256", AssetsApiTests.Sha(bytes));
            using var uploaded = await admin.SendAsync(put);
            Assert.True(uploaded.StatusCode == HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync() + a.Log());
        }

        var host = $"Host: 127.0.0.1:{a.Port}\r\n";
        var get = $"GET /boot/assets/big.img HTTP/1.1\r\n{host}User-Agent: iPXE/1.21\r\n\r\n";

        // One connection: three pipelined GETs, then two more one after the other; a peer's fetch by hash too.
        using (var conn = await RawHttp.ConnectAsync(a.Port))
        {
            await conn.SendAsync(get + get + get);
            for (var i = 0; i < 3; i++)
            {
                var r = await conn.ReadResponseAsync();
                Assert.Equal(200, r.Status);
                Assert.False(r.Header("Connection") == "close", "the kept path does not close");
                Assert.Equal($"\"{AssetsApiTests.Sha(big)}\"", r.Header("ETag"));
                Assert.Equal("bytes", r.Header("Accept-Ranges"));
                Assert.Equal(big, r.Body);
            }

            for (var i = 0; i < 2; i++)
            {
                await conn.SendAsync(get);
                Assert.Equal(big, (await conn.ReadResponseAsync()).Body);
            }

            await conn.SendAsync($"GET /internal/v1/assets/sha256/{AssetsApiTests.Sha(big)} HTTP/1.1\r\n{host}\r\n");
            Assert.Equal(big, (await conn.ReadResponseAsync()).Body);

            // Kestrel takes over the connection at the first request the kept path does not answer.
            await conn.SendAsync($"GET /boot/assets/big.img HTTP/1.1\r\n{host}Range: bytes=1048576-2097151\r\n\r\n");
            var partial = await conn.ReadResponseAsync();
            Assert.Equal(206, partial.Status);
            Assert.Equal(big[(1 << 20)..(2 << 20)], partial.Body);
            await conn.SendAsync($"GET /boot/assets/small.bin HTTP/1.1\r\n{host}\r\n");
            Assert.Equal(small, (await conn.ReadResponseAsync()).Body);
            await conn.SendAsync($"GET /boot/assets/nope.img HTTP/1.1\r\n{host}\r\n");
            Assert.Equal(404, (await conn.ReadResponseAsync()).Status);
            await conn.SendAsync(get);
            var closing = await conn.ReadResponseAsync();
            Assert.Equal("close", closing.Header("Connection")); // SendFileResult, inside Kestrel
            Assert.Equal(big, closing.Body);
            Assert.True(await conn.IsClosedAsync(), "SendFileResult closes after the body");
        }

        // Connection: close from the client: the body, then the server closes.
        using (var conn = await RawHttp.ConnectAsync(a.Port))
        {
            await conn.SendAsync($"GET /boot/assets/big.img HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
            var r = await conn.ReadResponseAsync();
            Assert.Equal("close", r.Header("Connection"));
            Assert.Equal(big, r.Body);
            Assert.True(await conn.IsClosedAsync(), "closed after the body the client asked to be the last");
        }

        // Conditional, HEAD, a malformed head and a head without Host go to Kestrel from the first request.
        using (var conn = await RawHttp.ConnectAsync(a.Port))
        {
            await conn.SendAsync($"GET /boot/assets/big.img HTTP/1.1\r\n{host}If-None-Match: \"{AssetsApiTests.Sha(big)}\"\r\n\r\n");
            Assert.Equal(304, (await conn.ReadResponseAsync()).Status);
        }

        using (var conn = await RawHttp.ConnectAsync(a.Port))
        {
            await conn.SendAsync($"HEAD /boot/assets/big.img HTTP/1.1\r\n{host}\r\n");
            var r = await conn.ReadResponseAsync(head: true);
            Assert.Equal(200, r.Status);
            Assert.Equal(big.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Header("Content-Length"));
        }

        foreach (var bad in new[] { "GET /boot/assets/big.img HTTP/1.1\r\n\r\n", $"GET /boot/assets/big.img HTTP/1.1\r\n{host} folded\r\n\r\n" })
        {
            using var conn = await RawHttp.ConnectAsync(a.Port);
            await conn.SendAsync(bad);
            Assert.Equal(400, (await conn.ReadResponseAsync()).Status);
        }

        // Through an ordinary client: keep-alive, the same bytes.
        using var boot = Client(a, null);
        for (var i = 0; i < 3; i++)
        {
            using var whole = await boot.GetAsync("/boot/assets/big.img");
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.NotEqual(true, whole.Headers.ConnectionClose);
            Assert.Equal(big.Length, whole.Content.Headers.ContentLength);
            Assert.Equal(big, await whole.Content.ReadAsByteArrayAsync());
        }

        // A client that goes away mid-body costs the server nothing lasting: the next download is whole.
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, a.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(get));
            var some = new byte[64 << 10];
            await stream.ReadAtLeastAsync(some, some.Length);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(some, 0, 17));
            socket.Client.LingerState = new LingerOption(true, 0);
        }

        using var again = await boot.GetAsync("/boot/assets/big.img");
        Assert.Equal(big, await again.Content.ReadAsByteArrayAsync());
        Assert.DoesNotContain("Unhandled", a.Log());
    }

    /// <summary>A raw HTTP/1.1 connection: what is sent is exactly what the test writes, and responses are read by Content-Length.</summary>
    private sealed class RawHttp : IDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private byte[] _pending = [];

        private RawHttp(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _stream.ReadTimeout = 30_000;
        }

        public static async Task<RawHttp> ConnectAsync(int port)
        {
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return new RawHttp(client);
        }

        public Task SendAsync(string text) => _stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

        public async Task<Response> ReadResponseAsync(bool head = false)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new MemoryStream();
            buffer.Write(_pending);
            int end;
            while ((end = IndexOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "\r\n\r\n"u8)) < 0)
            {
                await ReadMoreAsync(buffer, cts.Token);
            }

            var lines = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, end).Split("\r\n");
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (!head && headers.GetValueOrDefault("Transfer-Encoding") == "chunked")
            {
                _pending = buffer.ToArray()[(end + 4)..];
                return new Response(status, headers, await ReadChunkedAsync(cts.Token));
            }

            var length = head || !headers.TryGetValue("Content-Length", out var cl) ? 0 : int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture);
            while (buffer.Length < end + 4 + length)
            {
                await ReadMoreAsync(buffer, cts.Token);
            }

            var all = buffer.ToArray();
            _pending = all[(end + 4 + length)..];
            return new Response(status, headers, all[(end + 4)..(end + 4 + length)]);
        }

        private async Task<byte[]> ReadChunkedAsync(CancellationToken ct)
        {
            var body = new MemoryStream();
            while (true)
            {
                var size = Convert.ToInt32(await ReadLineAsync(ct), 16);
                var chunk = await ReadExactlyAsync(size + 2, ct);
                body.Write(chunk, 0, size);
                if (size == 0)
                {
                    return body.ToArray();
                }
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var buffer = new MemoryStream();
            buffer.Write(_pending);
            int end;
            while ((end = IndexOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "\r\n"u8)) < 0)
            {
                await ReadMoreAsync(buffer, ct);
            }

            var all = buffer.ToArray();
            _pending = all[(end + 2)..];
            return Encoding.ASCII.GetString(all, 0, end);
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var buffer = new MemoryStream();
            buffer.Write(_pending);
            while (buffer.Length < count)
            {
                await ReadMoreAsync(buffer, ct);
            }

            var all = buffer.ToArray();
            _pending = all[count..];
            return all[..count];
        }

        /// <summary>Whether the server closes the connection (end of stream, nothing more sent) within 10 s.</summary>
        public async Task<bool> IsClosedAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var one = new byte[1];
            try
            {
                return _pending.Length == 0 && await _stream.ReadAsync(one, cts.Token) == 0;
            }
            catch (IOException)
            {
                return true;
            }
        }

        public void Dispose() => _client.Dispose();

        private async Task ReadMoreAsync(MemoryStream buffer, CancellationToken ct)
        {
            var chunk = new byte[256 << 10];
            var n = await _stream.ReadAsync(chunk, ct);
            Assert.True(n > 0, "the server closed the connection before the whole response");
            buffer.Write(chunk, 0, n);
        }

        private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);

        public sealed record Response(int Status, Dictionary<string, string> Headers, byte[] Body)
        {
            public string? Header(string name) => Headers.GetValueOrDefault(name);
        }
    }

    [Fact]
    public async Task UploadCutOffMidStream_LeavesNothingVisible_AndNoTempFile()
    {
        var a = await StartAsync("cut");
        var token = await a.AdminTokenAsync();

        // A raw HTTP/1.1 request that announces 32 MiB, sends 4 MiB and closes the connection.
        using (var socket = new TcpClient())
        {
            var https = new Uri(a.Process.HttpsUrl);
            await socket.ConnectAsync(IPAddress.Loopback, https.Port);
            var roots = BootServerTrust.CaCertificates(a.DataDir);
            using var stream = new SslStream(socket.GetStream(), leaveInnerStreamOpen: true, (_, cert, _, errors) => BootServerTrust.Validate(roots, cert, errors));
            await stream.AuthenticateAsClientAsync("127.0.0.1");
            var head = $"PUT /api/v1/assets/cut.img HTTP/1.1\r\nHost: 127.0.0.1:{https.Port}\r\nAuthorization: Bearer {token}\r\n" +
                $"Content-Type: application/octet-stream\r\nContent-Length: {32 << 20}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            var chunk = AssetsApiTests.RandomBytes(1 << 20);
            for (var i = 0; i < 4; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.FlushAsync();
            await Task.Delay(300); // let the server start writing its temp file
            socket.Client.LingerState = new LingerOption(true, 0); // RST, as a crashed client
        }

        var tmp = Path.Combine(a.DataDir, "assets", "tmp");
        await AssetsApiTests.Eventually(() => Directory.GetFiles(tmp).Length == 0, "the temp file is removed");
        Assert.Empty(Directory.GetFiles(Path.Combine(a.DataDir, "assets", "sha256")));
        using var admin = Client(a, token);
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/assets");
        Assert.Equal(0, list.GetArrayLength());
        using var get = await admin.GetAsync("/boot/assets/cut.img");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var store = new EtcdStore(new Inventory.InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix });
        Assert.Equal(0, (await store.GetPrefixAsync(store.Keys.AssetsPrefix, default)).Count);
        Assert.DoesNotContain("Unhandled error", a.Log());
    }

    private async Task<List<string>> ServerIds()
    {
        using var store = new EtcdStore(new Inventory.InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix });
        var kvs = await store.GetPrefixAsync(store.Keys.ServersPrefix, default);
        return kvs.Kvs.Select(kv => kv.Key.ToStringUtf8()).ToList();
    }

    private async Task<List<string>> Holders(string sha)
    {
        using var store = new EtcdStore(new Inventory.InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix });
        var kvs = await store.GetPrefixAsync(store.Keys.AssetHoldersPrefix, default);
        return kvs.Kvs.Select(kv => kv.Key.ToStringUtf8()).Where(k => k.EndsWith("/" + sha, StringComparison.Ordinal)).ToList();
    }

    /// <summary>One nekko-bootserver process against an external etcd, on a loopback port of its own.</summary>
    private sealed class ServerProcess(string name, string etcdEndpoint, string prefix) : IAsyncDisposable
    {
        private readonly StringWriter _log = new();
        private BootServerProcess? _process;

        public string DataDir { get; } = Directory.CreateTempSubdirectory($"nekko-assets-{name}-").FullName;

        public int Port { get; } = EtcdServer.FreePort();

        public string Url => $"http://127.0.0.1:{Port}";

        public BootServerProcess Process => _process ?? throw new InvalidOperationException("not started");

        public async Task StartAsync()
        {
            BootServerTrust.WriteSharedKek(DataDir, prefix); // as an operator copies DATA_DIR/pki-kek to every boot server
            _process = await BootServerProcess.StartAsync(Url, _log,
                "--data-dir", DataDir, "--http-url", Url, "--etcd-endpoints", etcdEndpoint, "--etcd-prefix", prefix,
                "--tftp-port", "0", "--server-id", "bs-" + name);
        }

        /// <summary>The admin token: written by whichever server bootstrapped the prefix.</summary>
        public async Task<string> AdminTokenAsync()
        {
            var file = Path.Combine(DataDir, "admin.token");
            await AssetsApiTests.Eventually(() => File.Exists(file), "the admin token is written");
            return (await File.ReadAllTextAsync(file)).Trim();
        }

        public async Task StopAsync()
        {
            if (_process is { } process)
            {
                await process.StopAsync();
            }
        }

        public string Log()
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await StopAsync();
            }
            catch (TimeoutException)
            {
                // killed below
            }

            _process?.Dispose();
            _log.Dispose();
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
