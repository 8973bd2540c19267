using System.Net;
using System.Text;

namespace NekkoMetal.Cli.Tests.TestKit;

/// <summary>
/// An in-test stand-in for the boot server: records every request and answers with a canned response.
/// It checks what nekkoctl sends and how it renders answers; the end-to-end tests against the real
/// admin API (ASP.NET TestServer calling CliApp) live in tests/BootServer.Tests.
/// </summary>
internal sealed class RecordingHandler : HttpMessageHandler
{
    public List<RecordedRequest> Requests { get; } = [];

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    /// <summary>The response body; null for none (e.g. 204).</summary>
    public string? Body { get; set; } = "[]";

    public string ContentType { get; set; } = "application/json";

    public RecordedRequest Single => Assert.Single(Requests);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken),
            request.Content?.Headers.ContentType?.MediaType,
            request.Headers.Authorization?.ToString()));

        var response = new HttpResponseMessage(Status) { RequestMessage = request };
        if (Body is not null)
        {
            response.Content = new StringContent(Body, Encoding.UTF8, ContentType);
        }

        return response;
    }
}

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Body, string? MediaType, string? Authorization)
{
    /// <summary>Path and query exactly as sent (still percent-encoded).</summary>
    public string Target => Uri.GetComponents(UriComponents.PathAndQuery, UriFormat.UriEscaped);
}
