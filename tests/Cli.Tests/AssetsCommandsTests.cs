using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// <c>nekkoctl assets upload|list|get|download|delete</c>: what is sent (path, headers, body) and how answers are
/// shown, against a stand-in handler; the real server is exercised in tests/BootServer.Tests/AssetsCliTests.cs.
/// </summary>
public sealed class AssetsCommandsTests : IDisposable
{
    private const string Meta = """{"name":"debian.iso","sha256":"SHA","size":3145728,"contentType":"application/x-iso9660-image","createdAt":"2026-03-01T11:59:30.1234567+00:00","uploadedBy":"admin"}""";

    private readonly string _dir = Directory.CreateTempSubdirectory("nekkoctl-assets-").FullName;
    private readonly AssetsHandler _handler = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var env = new Dictionary<string, string?>(StringComparer.Ordinal) { ["NEKKO_TOKEN"] = "test-token" };
        var environment = new CliEnvironment(stdout, stderr, env, _handler, new FakeTimeProvider(), () => new StringReader(""));
        var code = await CliApp.RunAsync(args, environment, CancellationToken.None);
        return (code, stdout.ToString().ReplaceLineEndings("\n"), stderr.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Upload_StreamsTheFile_WithItsSha256_AndShowsTheAsset()
    {
        var data = Encoding.ASCII.GetBytes(new string('x', 5000));
        var path = Path.Combine(_dir, "debian.iso");
        await File.WriteAllBytesAsync(path, data);
        _handler.Respond(HttpStatusCode.Created, Meta);

        var result = await Run("assets", "upload", "debian.iso", path, "--content-type", "application/x-iso9660-image");

        Assert.True(result.Code == 0, result.Err);
        var request = Assert.Single(_handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("https://127.0.0.1:8443/api/v1/assets/debian.iso", request.Uri.ToString());
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), request.Headers["X-Checksum-Sha256"]);
        Assert.Equal("application/x-iso9660-image", request.ContentType);
        Assert.Equal(data, request.Body);
        Assert.Equal(data.Length, request.ContentLength);
        Assert.Equal(
            """
            NAME         SIZE      SHA256   CONTENT-TYPE                  CREATED                BY
            debian.iso   3.0 MiB   SHA      application/x-iso9660-image   2026-03-01T11:59:30Z   admin

            """,
            result.Out);
    }

    [Fact]
    public async Task Upload_MissingFile_IsAUsageError_NothingSent()
    {
        var result = await Run("assets", "upload", "x", Path.Combine(_dir, "nope"));
        Assert.Equal(ExitCodes.Usage, result.Code);
        Assert.Contains("does not exist", result.Err);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task Upload_TooLarge_ShowsTheServersProblem()
    {
        var path = Path.Combine(_dir, "big");
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        _handler.Respond(HttpStatusCode.RequestEntityTooLarge,
            """{"title":"Request body too large","status":413,"detail":"the asset is 3 bytes, larger than the limit of 2 bytes (--max-asset-bytes)"}""",
            "application/problem+json");

        var result = await Run("assets", "upload", "big", path);

        Assert.Equal(ExitCodes.ServerError, result.Code);
        Assert.Contains("--max-asset-bytes", result.Err);
    }

    [Fact]
    public async Task List_Get_Delete_SendTheRightRequests()
    {
        _handler.Respond(HttpStatusCode.OK, "[" + Meta + "]");
        var list = await Run("assets", "list");
        Assert.Equal(0, list.Code);
        Assert.Contains("debian.iso   3.0 MiB", list.Out);

        _handler.Respond(HttpStatusCode.OK, Meta);
        var get = await Run("assets", "get", "debian.iso", "-o", "json");
        Assert.Equal(0, get.Code);
        Assert.Contains("\"sha256\": \"SHA\"", get.Out);

        _handler.Respond(HttpStatusCode.NoContent, null);
        var delete = await Run("assets", "rm", "debian.iso");
        Assert.Equal(0, delete.Code);
        Assert.Equal("asset debian.iso deleted\n", delete.Out);

        Assert.Equal(
            ["GET /api/v1/assets", "GET /api/v1/assets/debian.iso", "DELETE /api/v1/assets/debian.iso"],
            _handler.Requests.Select(r => $"{r.Method} {r.Uri.AbsolutePath}"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public async Task DotNames_AreRefused_BeforeAnyRequest(string name)
    {
        var result = await Run("assets", "get", name);
        Assert.Equal(ExitCodes.Usage, result.Code);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task Download_ChecksTheHash_ThenWritesTheFile()
    {
        var data = Encoding.ASCII.GetBytes("kernel bytes");
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        _handler.Respond(HttpStatusCode.OK, data, sha);
        var target = Path.Combine(_dir, "out.bin");

        var result = await Run("assets", "download", "vmlinuz", target);

        Assert.True(result.Code == 0, result.Err);
        Assert.Equal("https://127.0.0.1:8443/api/v1/assets/vmlinuz/content", Assert.Single(_handler.Requests).Uri.ToString());
        Assert.Equal(data, await File.ReadAllBytesAsync(target));
        Assert.Equal($"{target}: {data.Length} bytes, sha256 {sha}\n", result.Out);
    }

    [Fact]
    public async Task Download_WrongHash_WritesNothing()
    {
        _handler.Respond(HttpStatusCode.OK, Encoding.ASCII.GetBytes("tampered"), new string('0', 64));
        var target = Path.Combine(_dir, "out.bin");

        var result = await Run("assets", "download", "vmlinuz", target);

        Assert.NotEqual(0, result.Code);
        Assert.Contains("SHA-256", result.Err);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Download_IntoADirectory_UsesTheAssetsName()
    {
        _handler.Respond(HttpStatusCode.OK, [1, 2, 3], null);
        var result = await Run("assets", "download", "initrd.img", _dir);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(_dir, "initrd.img")));
    }

    private sealed record Recorded(HttpMethod Method, Uri Uri, string? Authorization, Dictionary<string, string> Headers, string? ContentType, long? ContentLength, byte[]? Body);

    /// <summary>Records requests with their headers and binary bodies; answers with one canned response.</summary>
    private sealed class AssetsHandler : HttpMessageHandler
    {
        private HttpStatusCode _status = HttpStatusCode.OK;
        private byte[]? _body;
        private string _mediaType = "application/json";
        private string? _etag;

        public List<Recorded> Requests { get; } = [];

        public void Respond(HttpStatusCode status, string? json, string mediaType = "application/json")
        {
            (_status, _body, _mediaType, _etag) = (status, json is null ? null : Encoding.UTF8.GetBytes(json), mediaType, null);
        }

        public void Respond(HttpStatusCode status, byte[] content, string? sha256)
        {
            (_status, _body, _mediaType, _etag) = (status, content, "application/octet-stream", sha256);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(new Recorded(
                request.Method,
                request.RequestUri!,
                request.Headers.Authorization?.ToString(),
                request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value)),
                request.Content?.Headers.ContentType?.MediaType,
                request.Content?.Headers.ContentLength,
                request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken)));
            var response = new HttpResponseMessage(_status) { RequestMessage = request };
            if (_body is not null)
            {
                response.Content = new ByteArrayContent(_body);
                response.Content.Headers.ContentType = new MediaTypeHeaderValue(_mediaType);
            }

            if (_etag is not null)
            {
                response.Headers.ETag = new EntityTagHeaderValue($"\"{_etag}\"");
            }

            return response;
        }
    }
}
