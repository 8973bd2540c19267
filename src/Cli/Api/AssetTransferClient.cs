using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Api;

/// <summary>
/// Streams asset content to and from <c>/api/v1/assets</c>: an upload sends the file as the body with its SHA-256
/// (which the server checks before the asset becomes visible); a download follows the server's redirect to a peer
/// that has the content, writes to a temp file beside the target, checks the hash and only then renames it.
/// Unlike <see cref="AdminApiClient"/> there is no overall time limit: images are large.
/// </summary>
internal sealed class AssetTransferClient(HttpClient http, Uri server, string token, string tokenSource, ServerTrust? trust = null)
{
    private readonly Uri _apiBase = new(server.AbsolutePath.EndsWith('/') ? server : new Uri(server + "/"), "api/v1/");

    public async Task<JsonNode?> UploadAsync(string name, string path, string? contentType, CancellationToken cancellationToken)
    {
        string sha256;
        await using (var hashing = File.OpenRead(path))
        {
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(hashing, cancellationToken));
        }

        await using var file = File.OpenRead(path);
        using var content = new StreamContent(file, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/octet-stream");
        content.Headers.ContentLength = file.Length;
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_apiBase, AssetPaths.Asset(name))) { Content = content };
        request.Headers.Add("X-Checksum-Sha256", sha256);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            throw ApiErrorException.NotJson(response, ex);
        }
    }

    /// <summary>Downloads to <paramref name="path"/>; returns the content's SHA-256 and size, checked against <paramref name="expectedSha256"/>.</summary>
    public async Task<(string Sha256, long Size)> DownloadAsync(string name, string path, string? expectedSha256, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_apiBase, AssetPaths.Content(name)));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var expected = expectedSha256 ?? response.Headers.ETag?.Tag.Trim('"');
        var full = Path.GetFullPath(path);
        var temp = full + ".part-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    size += n;
                }
            }

            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (expected is not null && !string.Equals(sha256, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new CliUsageException($"the downloaded content's SHA-256 is {sha256}, not {expected}; {path} was not written");
            }

            File.Move(temp, full, overwrite: true);
            return (sha256, size);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("application/problem+json");
        request.Headers.Accept.ParseAdd("*/*");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw ServerUnreachableException.From(server, ex, trust, ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw ApiErrorException.FromResponse(response, await response.Content.ReadAsStringAsync(cancellationToken), tokenSource);
            }
        }

        return response;
    }
}

/// <summary>Asset paths, relative to <c>/api/v1/</c> (beside <see cref="ApiPaths"/>).</summary>
internal static class AssetPaths
{
    public const string Assets = "assets";

    public static string Asset(string name) => $"{Assets}/{ApiPaths.Segment(name)}";

    public static string Content(string name) => $"{Asset(name)}/content";
}
