using System.Net;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// <c>nekkoctl machines reinstall</c>: the request sent and how the answer is shown, against a recording stand-in
/// shaped like the boot server's <c>POST /api/v1/machines/{serial}/reinstall</c> answers.
/// </summary>
public sealed class MachinesReinstallTests
{
    private const string Due = """
        {"serial":"SN 1","role":"worker","due":true,"profileVersion":3,
         "record":{"serial":"SN 1","role":"worker","profileVersion":2,"configFetchedAt":"2026-03-01T11:59:30+00:00",
                   "reinstallRequestedAt":"2026-03-02T08:00:00+00:00"}}
        """;

    private readonly CliHarness _cli = new();

    [Fact]
    public async Task Reinstall_PostsToTheMachine_AndSaysWhatTheNextBootDoes()
    {
        _cli.Handler.Body = Due;

        var result = await _cli.RunAsync("machines", "reinstall", "SN 1");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/v1/machines/SN%201/reinstall", request.Target);
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Equal("machine SN 1 installs role worker (profile version 3) at its next network boot\n", result.Stdout);
    }

    [Theory]
    [InlineData("""{"serial":"SN1","due":false}""", "machine SN1 has no role: its next network boot has nothing to install\n")]
    [InlineData("""{"serial":"SN1","role":"storage","due":false}""", "role storage has no boot profile: machine SN1's next network boot has nothing to install\n")]
    public async Task Reinstall_WithNothingToInstall_SaysSo(string body, string expected)
    {
        _cli.Handler.Body = body;
        var result = await _cli.RunAsync("machines", "reinstall", "SN1");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, result.Stdout);
    }

    [Fact]
    public async Task Reinstall_Json_PrintsTheStatus()
    {
        _cli.Handler.Body = Due;
        var result = await _cli.RunAsync("machines", "reinstall", "SN 1", "-o", "json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"due\": true", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"profileVersion\": 3", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reinstall_UnknownMachine_IsAnApiError()
    {
        _cli.Handler.Status = HttpStatusCode.NotFound;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Not found","status":404,"detail":"machine 'SN9' was not found"}""";

        var result = await _cli.RunAsync("machines", "reinstall", "SN9");

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal("error: Not found (HTTP 404)\n  machine 'SN9' was not found\n", result.Stderr);
    }

    [Fact]
    public async Task Reinstall_WithoutSerial_IsAUsageError()
    {
        var result = await _cli.RunAsync("machines", "reinstall");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(_cli.Handler.Requests);
    }
}
