using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Api;

/// <summary>
/// Sends requests to the admin API (<c>{server}/api/v1/</c>) with the bearer token and turns the outcome into
/// a JSON document, an <see cref="ApiErrorException"/> (the server said no) or a
/// <see cref="ServerUnreachableException"/> (no answer).
/// </summary>
internal sealed class AdminApiClient
{
    private readonly HttpClient _http;
    private readonly Uri _server;
    private readonly Uri _apiBase;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly string _tokenSource;
    private readonly ServerTrust? _trust;

    public AdminApiClient(HttpClient http, Uri server, string token, string tokenSource, ServerTrust? trust = null)
    {
        _trust = trust;
        _http = http;
        _server = server;
        var withSlash = server.AbsolutePath.EndsWith('/') ? server : new Uri(server + "/");
        _apiBase = new Uri(withSlash, "api/v1/");
        _authorization = new AuthenticationHeaderValue("Bearer", token);
        _tokenSource = tokenSource;
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, content: null, cancellationToken);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, content: null, cancellationToken);

    public Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, JsonNode body, CancellationToken cancellationToken) =>
        SendJsonAsync(method, path, body.ToJsonString(JsonOutput.CompactOptions), "application/json", cancellationToken);

    /// <summary>Sends <paramref name="json"/> exactly as given (for <c>-f FILE</c>).</summary>
    public async Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, string json, string mediaType, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, mediaType);
        return await SendAsync(method, path, content, cancellationToken);
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_apiBase, path)) { Content = content };
        request.Headers.Authorization = _authorization;
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("application/problem+json");

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw ServerUnreachableException.From(_server, ex, _trust, Describe(ex));
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(_server, $"no answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw ApiErrorException.FromResponse(response, body, _tokenSource);
            }

            if (string.IsNullOrWhiteSpace(body))
            {
                return null;
            }

            try
            {
                return JsonNode.Parse(body);
            }
            catch (JsonException ex)
            {
                throw ApiErrorException.NotJson(response, ex);
            }
        }
    }

    /// <summary>The innermost useful reason: "Connection refused (127.0.0.1:8080)" rather than a wrapper's text.</summary>
    private static string Describe(HttpRequestException ex)
    {
        var message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!string.IsNullOrEmpty(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message = $"{message} ({inner.Message})";
            }
        }

        return message;
    }
}
