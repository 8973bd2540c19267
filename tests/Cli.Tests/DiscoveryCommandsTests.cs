using System.Net;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// <c>nekkoctl discovery pending|accept|reject</c>: the requests sent and how answers are shown. The handler is a
/// recording stand-in shaped like the boot server's <c>/api/v1/discovery/pending</c> answers.
/// </summary>
public sealed class DiscoveryCommandsTests
{
    private const string Pending = """
        [
          {"serial":"SN-0001","report":{"serial":"SN-0001","uuid":"6f1c2a52-8a4e-4c1e-9d1a-0e5f00000001",
            "macs":["52:54:00:21:40:01","52:54:00:21:40:02"],
            "hardware":{"vendor":"QEMU","product":"Standard PC (Q35 + ICH9, 2009)","cpu":{"model":"Intel N100","cores":4},
              "memoryBytes":17179869184,"disks":[],"nics":[]}},
           "receivedAt":"2026-03-01T11:59:30.1234567+00:00"},
          {"serial":"52-54-00-21-40-03","report":{"serial":null,"uuid":null,"macs":["52:54:00:21:40:03"],"hardware":null},
           "receivedAt":"2026-03-01T20:00:00+09:00"}
        ]
        """;

    private readonly CliHarness _cli = new();

    [Fact]
    public async Task Pending_GetsThePendingList()
    {
        var result = await _cli.RunAsync("discovery", "pending");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("https://127.0.0.1:8443/api/v1/discovery/pending", request.Uri.ToString());
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Null(request.Body);
    }

    [Fact]
    public async Task Pending_Table_ShowsIdentityHardwareAndTime()
    {
        _cli.Handler.Body = Pending;

        var result = await _cli.RunAsync("discovery", "pending");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            """
            SERIAL              UUID                                   MACS                                  PRODUCT                               CPU          MEMORY     RECEIVED
            SN-0001             6f1c2a52-8a4e-4c1e-9d1a-0e5f00000001   52:54:00:21:40:01,52:54:00:21:40:02   QEMU Standard PC (Q35 + ICH9, 2009)   Intel N100   16.0 GiB   2026-03-01T11:59:30Z
            52-54-00-21-40-03   <none>                                 52:54:00:21:40:03                     <none>                                <none>       <none>     2026-03-01T11:00:00Z

            """,
            result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Pending_Empty_PrintsTheHeader()
    {
        var result = await _cli.RunAsync("discovery", "pending");

        Assert.Equal("SERIAL   UUID   MACS   PRODUCT   CPU   MEMORY   RECEIVED\n", result.Stdout);
    }

    [Fact]
    public async Task Pending_Json_IsTheServersJsonIndented()
    {
        _cli.Handler.Body = """[{"serial":"SN1","report":{"macs":["52:54:00:21:40:01"]},"receivedAt":"2026-03-01T12:00:00Z"}]""";

        var result = await _cli.RunAsync("discovery", "pending", "-o", "json");

        Assert.Equal(
            """
            [
              {
                "serial": "SN1",
                "report": {
                  "macs": [
                    "52:54:00:21:40:01"
                  ]
                },
                "receivedAt": "2026-03-01T12:00:00Z"
              }
            ]

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Pending_EscapesServerText()
    {
        _cli.Handler.Body = """[{"serial":"SN1","report":{"hardware":{"product":"evil\nSN2   forged\u001b[2J"}}}]""";

        var result = await _cli.RunAsync("discovery", "pending");

        Assert.Contains("evil\\nSN2   forged\\u001b[2J", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Accept_PostsToTheAcceptRoute_AndSaysWhatHappened()
    {
        _cli.Handler.Body = """{"serial":"SN/1 ?","ipv4":["10.69.0.12"],"created":true,"action":"accepted"}""";

        var result = await _cli.RunAsync("discovery", "accept", "SN/1 ?");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/v1/discovery/pending/SN%2F1%20%3F/accept", request.Target);
        Assert.Equal("machine SN/1 ? accepted: registered, ipv4 10.69.0.12\n", result.Stdout);
    }

    [Fact]
    public async Task Accept_OfAKnownMachine_SaysItWasUpdated()
    {
        _cli.Handler.Body = """{"serial":"SN1","ipv4":[],"created":false,"action":"accepted"}""";

        var result = await _cli.RunAsync("discovery", "accept", "SN1");

        Assert.Equal("machine SN1 accepted: already registered, facts updated, ipv4 <none>\n", result.Stdout);
    }

    [Fact]
    public async Task Accept_Json_IsTheServersAnswer()
    {
        _cli.Handler.Body = """{"serial":"SN1","ipv4":["10.69.0.12"],"created":true,"action":"accepted"}""";

        var result = await _cli.RunAsync("discovery", "accept", "SN1", "-o", "json");

        Assert.Equal(
            """
            {
              "serial": "SN1",
              "ipv4": [
                "10.69.0.12"
              ],
              "created": true,
              "action": "accepted"
            }

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Accept_NotPending_IsAnApiError()
    {
        _cli.Handler.Status = HttpStatusCode.NotFound;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Not found","status":404,"detail":"pending machine 'SN9' not found"}""";

        var result = await _cli.RunAsync("discovery", "accept", "SN9");

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal("error: Not found (HTTP 404)\n  pending machine 'SN9' not found\n", result.Stderr);
    }

    [Fact]
    public async Task Reject_DeletesThePendingReport()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("discovery", "reject", "SN 1");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Delete, request.Method);
        Assert.Equal("/api/v1/discovery/pending/SN%201", request.Target);
        Assert.Equal("pending machine SN 1 rejected\n", result.Stdout);
    }

    [Fact]
    public async Task Reject_Json_PrintsNothing()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("discovery", "reject", "SN1", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData("accept")]
    [InlineData("reject")]
    public async Task DotSerials_AreRefused_BeforeAnythingIsSent(string action)
    {
        var result = await _cli.RunAsync("discovery", action, "..");

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Theory]
    [InlineData("accept")]
    [InlineData("reject")]
    public async Task MissingSerial_IsAUsageError(string action)
    {
        var result = await _cli.RunAsync("discovery", action);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(_cli.Handler.Requests);
    }
}
