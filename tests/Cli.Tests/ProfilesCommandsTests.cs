using System.Net;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// <c>nekkoctl profiles set|get|list|delete</c>: the requests sent and how answers are shown, against a recording
/// stand-in shaped like the boot server's <c>/api/v1/profiles</c> answers.
/// </summary>
public sealed class ProfilesCommandsTests : IDisposable
{
    private const string Profile = """
        {"role":"worker","version":3,"kernel":"debian-vmlinuz","initrds":["debian-initrd.img","extra.img"],"cmdline":"quiet",
         "config":{"kind":"cloud-init","userData":"#cloud-config\n"},"sshAuthorizedKeys":[],
         "updatedAt":"2026-03-01T11:59:30.1234567+00:00","updatedBy":"admin"}
        """;

    private readonly CliHarness _cli = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("nekkoctl-profiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Set_WithFlags_SendsTheProfile_ReadingTemplatesAndKeysFromFiles()
    {
        _cli.Handler.Body = Profile;
        var userData = WriteFile("user-data", "#cloud-config\nhostname: {{ hostname }}\n");
        var keys = WriteFile("keys", "# admins\nssh-ed25519 AAAA1 a@lab\n\nssh-ed25519 AAAA2 b@lab\n");

        var result = await _cli.RunAsync("profiles", "set", "worker", "--kernel", "debian-vmlinuz", "--initrd", "debian-initrd.img",
            "--initrd", "extra.img", "--cmdline", "quiet", "--user-data", userData, "--ssh-keys", keys, "--expect-version", "2");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/api/v1/profiles/worker", request.Target);
        Assert.Equal("application/json", request.MediaType);
        var body = JsonNode.Parse(request.Body!)!;
        Assert.Equal("debian-vmlinuz", body["kernel"]!.GetValue<string>());
        Assert.Equal(["debian-initrd.img", "extra.img"], body["initrds"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("quiet", body["cmdline"]!.GetValue<string>());
        Assert.Equal("cloud-init", body["config"]!["kind"]!.GetValue<string>());
        Assert.Equal("#cloud-config\nhostname: {{ hostname }}\n", body["config"]!["userData"]!.GetValue<string>());
        Assert.Equal(["ssh-ed25519 AAAA1 a@lab", "ssh-ed25519 AAAA2 b@lab"], body["sshAuthorizedKeys"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(2, body["version"]!.GetValue<long>());
        Assert.Equal(
            """
            ROLE     VERSION   KERNEL           INITRDS                       CONFIG       UPDATED                BY
            worker   3         debian-vmlinuz   debian-initrd.img,extra.img   cloud-init   2026-03-01T11:59:30Z   admin

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Set_Ignition_SendsKindIgnition()
    {
        _cli.Handler.Body = Profile;
        var ign = WriteFile("config.ign", """{"ignition":{"version":"3.4.0"}}""");
        var result = await _cli.RunAsync("profiles", "set", "cp", "--kernel", "k", "--ignition", ign);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var body = JsonNode.Parse(_cli.Handler.Single.Body!)!;
        Assert.Equal("ignition", body["config"]!["kind"]!.GetValue<string>());
        Assert.Equal("""{"ignition":{"version":"3.4.0"}}""", body["config"]!["ignition"]!.GetValue<string>());
        Assert.Null(body["version"]);
    }

    [Fact]
    public async Task Set_FromFile_SendsItAsIs()
    {
        _cli.Handler.Body = Profile;
        var json = """{"kernel":"k","config":{"kind":"cloud-init","userData":"#cloud-config\n"}}""";
        var result = await _cli.RunAsync("profiles", "set", "worker", "-f", WriteFile("p.json", json));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(json, _cli.Handler.Single.Body);
    }

    [Theory]
    [InlineData("profiles", "set", "worker")]
    [InlineData("profiles", "set", "worker", "--kernel", "k")]
    [InlineData("profiles", "set", "worker", "--kernel", "k", "--user-data", "a", "--ignition", "b")]
    [InlineData("profiles", "set", "worker", "--kernel", "k", "--ignition", "b", "--meta-data", "c")]
    [InlineData("profiles", "set", "worker", "-f", "x.json", "--kernel", "k")]
    public async Task Set_WrongCombination_IsAUsageError_NothingSent(params string[] args)
    {
        var result = await _cli.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task Set_BadTemplate_ShowsTheServersErrors()
    {
        _cli.Handler.Status = HttpStatusCode.BadRequest;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Invalid request","status":400,"detail":"invalid input","errors":{"config.userData":["user-data must start with a '#cloud-config' line (rendered for the sample machine SAMPLE-0001)"]}}""";
        var result = await _cli.RunAsync("profiles", "set", "worker", "--kernel", "k", "--user-data", WriteFile("ud", "hostname: x\n"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("config.userData", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("#cloud-config", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetListDelete_UseTheirPaths()
    {
        _cli.Handler.Body = Profile;
        Assert.Equal(0, (await _cli.RunAsync("profiles", "get", "worker")).ExitCode);
        _cli.Handler.Body = "[" + Profile + "]";
        var list = await _cli.RunAsync("profiles", "ls");
        Assert.Contains("worker   3", list.Stdout, StringComparison.Ordinal);
        _cli.Handler.Status = HttpStatusCode.NoContent;
        _cli.Handler.Body = null;
        var deleted = await _cli.RunAsync("profiles", "delete", "worker");
        Assert.Equal("profile worker deleted\n", deleted.Stdout);

        Assert.Equal(
            [(HttpMethod.Get, "/api/v1/profiles/worker"), (HttpMethod.Get, "/api/v1/profiles"), (HttpMethod.Delete, "/api/v1/profiles/worker")],
            _cli.Handler.Requests.Select(r => (r.Method, r.Target)));
    }
}
