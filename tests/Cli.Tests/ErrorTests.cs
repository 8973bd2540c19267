using System.Net;
using System.Net.Sockets;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

public sealed class ErrorTests
{
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task ProblemDetails_ArePrinted_WithExitCodeOne()
    {
        _cli.Handler.Status = HttpStatusCode.BadRequest;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """
            {"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.",
             "status":400,"detail":"The machine is not valid.",
             "errors":{"macs[0]":["'zz' is not a MAC address"],"serial":["must not be empty","must be at most 64 characters"]}}
            """;

        var result = await _cli.RunAsync("machines", "add", "SN1", "--mac", "zz");

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal(
            """
            error: One or more validation errors occurred. (HTTP 400)
              The machine is not valid.
              macs[0]: 'zz' is not a MAC address
              serial: must not be empty
              serial: must be at most 64 characters

            """,
            result.Stderr);
    }

    [Fact]
    public async Task ProblemWithoutErrors_PrintsTitleAndDetail()
    {
        _cli.Handler.Status = HttpStatusCode.Conflict;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Forbidden state transition","status":409,"detail":"healthy → uninitialized is not allowed"}""";

        var result = await _cli.RunAsync("machines", "set-state", "SN1", "uninitialized");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Forbidden state transition (HTTP 409)\n  healthy → uninitialized is not allowed\n", result.Stderr);
    }

    [Fact]
    public async Task NotFound_WithoutBody_UsesTheReasonPhrase()
    {
        _cli.Handler.Status = HttpStatusCode.NotFound;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("machines", "get", "SN404");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Not Found (HTTP 404)\n", result.Stderr);
    }

    [Fact]
    public async Task NonJsonErrorBody_IsShownCleaned()
    {
        _cli.Handler.Status = HttpStatusCode.BadGateway;
        _cli.Handler.ContentType = "text/html";
        _cli.Handler.Body = "<html>\u001b[2Jproxy error</html>";

        var result = await _cli.RunAsync("ipam", "get");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Bad Gateway (HTTP 502)\n  <html>\\u001b[2Jproxy error</html>\n", result.Stderr);
    }

    [Fact]
    public async Task Unauthorized_HintsWhereTheTokenCameFrom()
    {
        _cli.Handler.Status = HttpStatusCode.Unauthorized;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("tokens", "list");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Unauthorized (HTTP 401)\nhint: the server did not accept the token from NEKKO_TOKEN\n", result.Stderr);
    }

    [Fact]
    public async Task Forbidden_HintsAtTheRole()
    {
        _cli.Handler.Status = HttpStatusCode.Forbidden;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Forbidden","status":403}""";

        var result = await _cli.RunAsync("machines", "remove", "SN1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("viewer tokens can only read", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuccessWithNonJsonBody_IsAServerError()
    {
        _cli.Handler.ContentType = "text/plain";
        _cli.Handler.Body = "hello";

        var result = await _cli.RunAsync("machines", "list");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the server's answer is not JSON", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_ExitsThree_NamingTheUrlAndTheReason()
    {
        // A loopback port that was just bound and released: connecting is refused at once.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var env = new Dictionary<string, string?> { ["NEKKO_TOKEN"] = "t" };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(["machines", "list", "--server", $"http://127.0.0.1:{port}"], handler: null, stdout, stderr, env);

        Assert.Equal(3, exitCode);
        Assert.Empty(stdout.ToString());
        Assert.StartsWith($"error: cannot reach the server at http://127.0.0.1:{port}/: ", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("refused", stderr.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HandlerThrowingHttpRequestException_ExitsThree()
    {
        using var handler = new ThrowingHandler();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(
            ["ipam", "get", "--server", "https://boot.lab:8443"], handler, stdout, stderr, new Dictionary<string, string?> { ["NEKKO_TOKEN"] = "t" });

        Assert.Equal(3, exitCode);
        Assert.Equal("error: cannot reach the server at https://boot.lab:8443/: Name or service not known (boot.lab:8443)\n", stderr.ToString().ReplaceLineEndings("\n"));
    }

    private sealed class ThrowingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("Name or service not known (boot.lab:8443)");
    }
}
