using System.Net;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// The exact HTTP request each command sends. The handler is a recording stand-in; end-to-end tests
/// against the real admin API live in tests/BootServer.Tests.
/// </summary>
public sealed class RequestTests
{
    private const string Machine = """{"serial":"SN1","macs":["52:54:00:12:34:56"],"role":"worker","labels":{},"ipv4":[],"state":"uninitialized","updatedAt":"2026-03-01T12:00:00Z"}""";

    private readonly CliHarness _cli = new();

    [Fact]
    public async Task MachinesList_NoFilters()
    {
        var result = await _cli.RunAsync("machines", "list");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("https://127.0.0.1:8443/api/v1/machines", request.Uri.ToString());
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Null(request.Body);
    }

    [Fact]
    public async Task MachinesList_AllFilters_AreEncodedInTheQuery()
    {
        await _cli.RunAsync(
            "machines", "list", "--role", "worker", "--state", "healthy", "--label", "zone=a", "--label", "gpu=nvidia a100",
            "--serial", "SN 1", "--mac", "52:54:00:12:34:56");

        Assert.Equal(
            "/api/v1/machines?role=worker&state=healthy&label=zone%3Da&label=gpu%3Dnvidia%20a100&serial=SN%201&mac=52%3A54%3A00%3A12%3A34%3A56",
            _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task ServerFromEnv_WithPathPrefix_IsKept()
    {
        _cli.Env["NEKKO_SERVER"] = "https://boot.lab:8443/nekko";

        await _cli.RunAsync("machines", "ls");

        Assert.Equal("https://boot.lab:8443/nekko/api/v1/machines", _cli.Handler.Single.Uri.ToString());
    }

    [Fact]
    public async Task ServerFlag_BeatsEnv()
    {
        _cli.Env["NEKKO_SERVER"] = "http://from-env:1";

        await _cli.RunAsync("machines", "list", "--server", "http://from-flag:2/");

        Assert.Equal("http://from-flag:2/api/v1/machines", _cli.Handler.Single.Uri.ToString());
    }

    [Fact]
    public async Task MachinesGet_EscapesTheSerial()
    {
        _cli.Handler.Body = Machine;

        var result = await _cli.RunAsync("machines", "get", "SN/1 ?#");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Get, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/machines/SN%2F1%20%3F%23", _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task MachinesAdd_FromFlags_PostsTheMachine()
    {
        _cli.Handler.Status = HttpStatusCode.Created;
        _cli.Handler.Body = Machine;

        var result = await _cli.RunAsync(
            "machines", "add", "SN1", "--mac", "52:54:00:12:34:56", "--mac", "52:54:00:12:34:57", "--role", "worker",
            "--label", "zone=a", "--label", "gpu=true", "--uuid", "4c4c4544-0000", "--site", "home", "--rack", "1", "--index", "0",
            "--wol-mac", "52:54:00:12:34:56");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/v1/machines", request.Target);
        Assert.Equal("application/json", request.MediaType);
        Assert.Equal(
            """{"serial":"SN1","uuid":"4c4c4544-0000","macs":["52:54:00:12:34:56","52:54:00:12:34:57"],"role":"worker",""" +
            """ "labels":{"zone":"a","gpu":"true"},"site":"home","rack":1,"index":0,"power":{"wolMac":"52:54:00:12:34:56"}}""".TrimStart(),
            request.Body);
    }

    [Fact]
    public async Task MachinesAdd_OmitsAbsentFields()
    {
        _cli.Handler.Body = Machine;

        await _cli.RunAsync("machines", "add", "SN1", "--mac", "52:54:00:12:34:56");

        Assert.Equal("""{"serial":"SN1","macs":["52:54:00:12:34:56"]}""", _cli.Handler.Single.Body);
    }

    [Fact]
    public async Task MachinesAdd_FromFile_PostsTheFileAsIs()
    {
        var path = Path.GetTempFileName();
        const string Bulk = "[\n  {\"serial\": \"SN1\", \"macs\": [\"52:54:00:12:34:56\"], \"extra\": {\"kept\": true}},\n  {\"serial\": \"SN2\"}\n]\n";
        File.WriteAllText(path, Bulk);
        _cli.Handler.Body = $"[{Machine}]";
        try
        {
            var result = await _cli.RunAsync("machines", "add", "-f", path);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal(HttpMethod.Post, _cli.Handler.Single.Method);
            Assert.Equal("/api/v1/machines", _cli.Handler.Single.Target);
            Assert.Equal(Bulk, _cli.Handler.Single.Body);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task MachinesAdd_FromStdin()
    {
        _cli.Stdin = """{"serial":"SN1","macs":["52:54:00:12:34:56"]}""";
        _cli.Handler.Body = Machine;

        var result = await _cli.RunAsync("machines", "add", "-f", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(_cli.Stdin, _cli.Handler.Single.Body);
    }

    [Theory]
    [InlineData("{not json", "standard input is not valid JSON")]
    [InlineData("\"SN1\"", "standard input must hold an object or an array, not string")]
    [InlineData("", "standard input is not valid JSON")]
    public async Task MachinesAdd_BadFile_IsAUsageError(string stdin, string message)
    {
        _cli.Stdin = stdin;

        var result = await _cli.RunAsync("machines", "add", "-f", "-");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task MachinesAdd_MissingFile_IsAUsageError()
    {
        var result = await _cli.RunAsync("machines", "add", "-f", "/nonexistent/machines.json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot read /nonexistent/machines.json", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task MachinesSetState_PutsStateAndReason()
    {
        _cli.Handler.Body = Machine;

        var result = await _cli.RunAsync("machines", "set-state", "SN1", "healthy", "--reason", "fan replaced");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/api/v1/machines/SN1/state", request.Target);
        Assert.Equal("""{"state":"healthy","reason":"fan replaced"}""", request.Body);
    }

    [Fact]
    public async Task MachinesSetState_WithoutReason_NoBodyInAnswer()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("machines", "set-state", "SN1", "retiring");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"state":"retiring"}""", _cli.Handler.Single.Body);
        Assert.Equal("machine SN1 is now retiring\n", result.Stdout);
    }

    [Fact]
    public async Task MachinesLabel_SendsAMergePatch()
    {
        _cli.Handler.Body = Machine;

        var result = await _cli.RunAsync("machines", "label", "SN1", "k=v", "k2=v2", "k3-");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Patch, request.Method);
        Assert.Equal("/api/v1/machines/SN1", request.Target);
        Assert.Equal("application/merge-patch+json", request.MediaType);
        Assert.Equal("""{"labels":{"k":"v","k2":"v2","k3":null}}""", request.Body);
    }

    [Fact]
    public async Task MachinesRemove_Deletes()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("machines", "remove", "SN1");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Delete, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/machines/SN1", _cli.Handler.Single.Target);
        Assert.Null(_cli.Handler.Single.Body);
        Assert.Equal("machine SN1 removed\n", result.Stdout);
    }

    [Fact]
    public async Task MachinesRemove_JsonOutput_PrintsNothingFor204()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("machines", "rm", "SN1", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task IpamGet()
    {
        _cli.Handler.Body = """{"subnets":[],"revision":3}""";

        var result = await _cli.RunAsync("ipam", "get");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Get, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/ipam", _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task IpamSet_FromSubnetFlags()
    {
        _cli.Handler.Body = """{"subnets":[],"revision":4}""";

        var result = await _cli.RunAsync(
            "ipam", "set",
            "--subnet", "lab=10.0.0.0/24,range=10.0.0.100-10.0.0.199,gateway=10.0.0.1,dns=10.0.0.1;1.1.1.1",
            "--subnet", "storage=10.1.0.0/16");

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/api/v1/ipam", request.Target);
        Assert.Equal(
            """{"subnets":[{"name":"lab","cidr":"10.0.0.0/24","rangeStart":"10.0.0.100","rangeEnd":"10.0.0.199","gateway":"10.0.0.1",""" +
            """ "dns":["10.0.0.1","1.1.1.1"]},{"name":"storage","cidr":"10.1.0.0/16"}]}""".TrimStart(),
            request.Body);
    }

    [Fact]
    public async Task IpamSet_FromStdin_SendsItAsIs()
    {
        _cli.Stdin = """{ "subnets": [ { "name": "lab", "cidr": "10.0.0.0/24" } ] }""";
        _cli.Handler.Body = null;
        _cli.Handler.Status = HttpStatusCode.NoContent;

        var result = await _cli.RunAsync("ipam", "set", "-f", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Put, _cli.Handler.Single.Method);
        Assert.Equal(_cli.Stdin, _cli.Handler.Single.Body);
        Assert.Equal("IPAM configuration replaced\n", result.Stdout);
    }

    [Fact]
    public async Task IpamSet_FileMustHoldAnObject()
    {
        _cli.Stdin = "[]";

        var result = await _cli.RunAsync("ipam", "set", "-f", "-");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("must hold an object, not array", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task Audit_NoFilters()
    {
        await _cli.RunAsync("audit");

        Assert.Equal(HttpMethod.Get, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/audit", _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task Audit_RelativeAndAbsoluteTimes_AndLimit()
    {
        await _cli.RunAsync("audit", "--serial", "SN1", "--since", "1h", "--until", "2026-03-01T11:30:00+09:00", "--limit", "50");

        Assert.Equal(
            "/api/v1/audit?serial=SN1&since=2026-03-01T11%3A00%3A00Z&until=2026-03-01T11%3A30%3A00%2B09%3A00&limit=50",
            _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task Audit_RelativeTime_UsesTheInjectedClock()
    {
        _cli.Time.Advance(TimeSpan.FromDays(1));

        await _cli.RunAsync("audit", "--since", "30m");

        Assert.Equal("/api/v1/audit?since=2026-03-02T11%3A30%3A00Z", _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task TokensList()
    {
        await _cli.RunAsync("tokens", "list");

        Assert.Equal(HttpMethod.Get, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/tokens", _cli.Handler.Single.Target);
    }

    [Fact]
    public async Task TokensCreate_PrintsTheSecretAloneOnStdout_AndTheHintOnStderr()
    {
        _cli.Handler.Status = HttpStatusCode.Created;
        _cli.Handler.Body = """{"name":"ci","role":"viewer","createdAt":"2026-03-01T12:00:00Z","token":"nk_s3cr3t"}""";

        var result = await _cli.RunAsync("tokens", "create", "ci", "--role", "viewer");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Post, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/tokens", _cli.Handler.Single.Target);
        Assert.Equal("""{"name":"ci","role":"viewer"}""", _cli.Handler.Single.Body);
        Assert.Equal("nk_s3cr3t\n", result.Stdout);
        Assert.Equal("token ci created; it is shown only once, store it now\n", result.Stderr);
    }

    [Fact]
    public async Task TokensCreate_JsonOutput_IncludesTheSecret()
    {
        _cli.Handler.Body = """{"name":"ci","role":"admin","createdAt":"2026-03-01T12:00:00Z","token":"nk_s3cr3t"}""";

        var result = await _cli.RunAsync("tokens", "create", "ci", "--role", "admin", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"token\": \"nk_s3cr3t\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("shown only once", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensDelete_EscapesTheName()
    {
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;

        var result = await _cli.RunAsync("tokens", "delete", "ci/bot");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(HttpMethod.Delete, _cli.Handler.Single.Method);
        Assert.Equal("/api/v1/tokens/ci%2Fbot", _cli.Handler.Single.Target);
        Assert.Equal("token ci/bot deleted\n", result.Stdout);
    }

    [Fact]
    public async Task GlobalOptions_WorkBeforeTheCommandToo()
    {
        var result = await _cli.RunAsync("--server", "http://boot:1", "-o", "json", "--token", "x", "machines", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("http://boot:1/api/v1/machines", _cli.Handler.Single.Uri.ToString());
        Assert.Equal("Bearer x", _cli.Handler.Single.Authorization);
        Assert.Equal("[]\n", result.Stdout);
    }
}
