using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>Bad command lines end with exit code 2, a message on stderr, and no request.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData(new string[0], "Required command was not provided")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "machines" }, "Required command was not provided")]
    [InlineData(new[] { "machines", "get" }, "Required argument missing for command: 'get'")]
    [InlineData(new[] { "machines", "get", "SN1", "SN2" }, "SN2")]
    [InlineData(new[] { "machines", "list", "-o", "yaml" }, "yaml")]
    [InlineData(new[] { "machines", "list", "--label", "zone" }, "invalid label \"zone\": expected KEY=VALUE")]
    [InlineData(new[] { "machines", "list", "--label", "=a" }, "the key is empty")]
    [InlineData(new[] { "machines", "add" }, "give SERIAL --mac MAC, or -f FILE")]
    [InlineData(new[] { "machines", "add", "SN1" }, "--mac is required with SERIAL")]
    [InlineData(new[] { "machines", "add", "SN1", "--mac", "52:54:00:12:34:56", "-f", "x.json" }, "-f FILE cannot be combined")]
    [InlineData(new[] { "machines", "add", "-f", "x.json", "--role", "worker" }, "-f FILE cannot be combined")]
    [InlineData(new[] { "machines", "add", "SN1", "--mac", "m", "--rack", "two" }, "--rack must be a whole number")]
    [InlineData(new[] { "machines", "add", "SN1", "--mac", "m", "--label", "a=1", "--label", "a=2" }, "label \"a\" is given twice")]
    [InlineData(new[] { "machines", "set-state", "SN1" }, "Required argument missing for command: 'set-state'")]
    [InlineData(new[] { "machines", "label", "SN1" }, "Required argument missing for command: 'label'")]
    [InlineData(new[] { "machines", "label", "SN1", "zone" }, "expected KEY=VALUE, or KEY- to remove it")]
    [InlineData(new[] { "machines", "label", "SN1", "a=1", "a-" }, "label \"a\" is given twice")]
    [InlineData(new[] { "ipam", "set" }, "give either -f FILE or one or more --subnet")]
    [InlineData(new[] { "ipam", "set", "--subnet", "lab" }, "invalid subnet \"lab\"")]
    [InlineData(new[] { "ipam", "set", "-f", "x.json", "--subnet", "lab=10.0.0.0/24" }, "give either -f FILE or one or more --subnet")]
    [InlineData(new[] { "audit", "--since", "yesterday" }, "invalid time \"yesterday\"")]
    [InlineData(new[] { "audit", "--limit", "0" }, "--limit must be a whole number of at least 1")]
    [InlineData(new[] { "tokens", "create", "ci" }, "--role")]
    [InlineData(new[] { "tokens", "create", "ci", "--role", "root" }, "root")]
    public async Task BadCommandLine_ExitsWithUsageError_AndSendsNothing(string[] args, string expected)
    {
        var cli = new CliHarness();

        var result = await cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help' for usage.", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.Empty(cli.Handler.Requests);
    }

    [Theory]
    [InlineData("machines", "get", "..")]
    [InlineData("machines", "remove", ".")]
    [InlineData("tokens", "delete", "..")]
    public async Task DotSegmentName_IsRefused_SoNoOtherResourceIsHit(params string[] args)
    {
        var cli = new CliHarness();

        var result = await cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a valid name", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Handler.Requests);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://example.org")]
    [InlineData("http://h:8080/?x=1")]
    public async Task BadServerUrl_IsAUsageError(string server)
    {
        var cli = new CliHarness();

        var result = await cli.RunAsync("machines", "list", "--server", server);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"invalid server URL \"{server}\"", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Handler.Requests);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("machines", "--help")]
    [InlineData("machines", "add", "--help")]
    [InlineData("machines", "label", "-h")]
    [InlineData("ipam", "set", "--help")]
    [InlineData("audit", "--help")]
    [InlineData("tokens", "create", "--help")]
    public async Task Help_GoesToStdout_WithExitCodeZero(params string[] args)
    {
        var cli = new CliHarness();

        var result = await cli.RunAsync(args);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("nekkoctl", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--server", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
        Assert.Empty(cli.Handler.Requests);
    }

    [Fact]
    public async Task PublicEntry_RunsInProcess_WithTheGivenHandlerAndWriters()
    {
        var handler = new RecordingHandler { Body = "[]" };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var env = new Dictionary<string, string?> { ["NEKKO_TOKEN"] = "t", ["NEKKO_SERVER"] = "http://boot.test:9000" };

        var exitCode = await CliApp.RunAsync(["tokens", "list"], handler, stdout, stderr, env);

        Assert.Equal(0, exitCode);
        Assert.Equal("http://boot.test:9000/api/v1/tokens", handler.Single.Uri.ToString());
        Assert.Equal("NAME   ROLE   CREATED\n", stdout.ToString().ReplaceLineEndings("\n"));
        Assert.Empty(stderr.ToString());
    }
}
