using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// Where the bearer token comes from: --token, then --token-file, then NEKKO_TOKEN, then the file named by
/// NEKKO_TOKEN_FILE or &lt;data dir&gt;/admin.token (a flag beats the environment).
/// </summary>
public sealed class TokenResolutionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nekkoctl-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TokenFlag_BeatsEverything()
    {
        var cli = Harness(envToken: "from-env", tokenFileEnv: Write("env.token", "from-env-file"));

        var result = await cli.RunAsync("tokens", "list", "--token", "from-flag", "--token-file", Write("flag.token", "from-flag-file"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Bearer from-flag", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task EnvToken_BeatsTokenFileFromEnvAndDataDir()
    {
        var cli = Harness(envToken: "from-env", tokenFileEnv: Write("env.token", "from-env-file"));
        Write("admin.token", "from-data-dir");

        await cli.RunAsync("tokens", "list", "--data-dir", _dir);

        Assert.Equal("Bearer from-env", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task TokenFileFlag_BeatsEnvToken()
    {
        var cli = Harness(envToken: "from-env");

        await cli.RunAsync("tokens", "list", "--token-file", Write("viewer.token", "from-flag-file"));

        Assert.Equal("Bearer from-flag-file", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task TokenFileEnv_BeatsDataDir_AndIsTrimmed()
    {
        var cli = Harness(tokenFileEnv: Write("env.token", "  from-env-file\n"));
        Write("admin.token", "from-data-dir");

        await cli.RunAsync("tokens", "list", "--data-dir", _dir);

        Assert.Equal("Bearer from-env-file", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task DataDirFlag_BeatsDataDirEnv()
    {
        var cli = Harness();
        cli.Env["NEKKO_DATA_DIR"] = "/nonexistent/nekko";
        Write("admin.token", "from-data-dir\n");

        await cli.RunAsync("tokens", "list", "--data-dir", _dir);

        Assert.Equal("Bearer from-data-dir", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task DataDirEnv_LocatesAdminToken()
    {
        var cli = Harness();
        cli.Env["NEKKO_DATA_DIR"] = _dir;
        Write("admin.token", "from-data-dir");

        await cli.RunAsync("tokens", "list");

        Assert.Equal("Bearer from-data-dir", cli.Handler.Single.Authorization);
    }

    [Fact]
    public async Task EmptyEnvValues_CountAsUnset()
    {
        var cli = Harness(envToken: "");
        cli.Env["NEKKO_SERVER"] = "";
        cli.Env["NEKKO_DATA_DIR"] = _dir;
        Write("admin.token", "from-data-dir");

        await cli.RunAsync("tokens", "list");

        Assert.Equal("Bearer from-data-dir", cli.Handler.Single.Authorization);
        Assert.Equal("https://127.0.0.1:8443/api/v1/tokens", cli.Handler.Single.Uri.ToString());
    }

    [Fact]
    public async Task MissingTokenFile_NamesThePathAndTheFixes()
    {
        var cli = Harness();
        cli.Env["NEKKO_DATA_DIR"] = _dir;

        var result = await cli.RunAsync("machines", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"error: no admin token: token file {_dir}/admin.token does not exist; pass --token TOKEN or set NEKKO_TOKEN, " +
            "or point --token-file (NEKKO_TOKEN_FILE) or --data-dir (NEKKO_DATA_DIR) at the admin.token the boot server wrote\n",
            result.Stderr);
        Assert.Empty(result.Stdout);
        Assert.Empty(cli.Handler.Requests);
    }

    [Fact]
    public async Task NothingSet_UsesVarLibNekkometalAdminToken()
    {
        const string DefaultPath = "/var/lib/nekkometal/admin.token";
        var cli = Harness();

        var result = await cli.RunAsync("tokens", "list");

        // This host may run a boot server; either way the default path is the one used.
        if (File.Exists(DefaultPath))
        {
            Assert.Equal($"Bearer {File.ReadAllText(DefaultPath).Trim()}", cli.Handler.Single.Authorization);
        }
        else
        {
            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"token file {DefaultPath} does not exist", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MissingTokenFileInMissingDirectory_NamesThePath()
    {
        var cli = Harness();
        var path = Path.Combine(_dir, "no", "such", "admin.token");

        var result = await cli.RunAsync("machines", "list", "--token-file", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"token file {path} does not exist", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Handler.Requests);
    }

    [Fact]
    public async Task EmptyTokenFile_IsAnError()
    {
        var cli = Harness(tokenFileEnv: Write("empty.token", "\n"));

        var result = await cli.RunAsync("machines", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is empty", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Handler.Requests);
    }

    [Fact]
    public async Task TokenWithWhiteSpace_IsRefused()
    {
        var cli = Harness();

        var result = await cli.RunAsync("machines", "list", "--token", "two words");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("the token from --token contains white space", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Handler.Requests);
    }

    [Fact]
    public async Task UsageErrors_AreReportedBeforeAMissingToken()
    {
        var cli = Harness();

        var result = await cli.RunAsync("machines", "label", "SN1", "zone");

        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("token", result.Stderr, StringComparison.Ordinal);
    }

    private static CliHarness Harness(string? envToken = null, string? tokenFileEnv = null)
    {
        var cli = new CliHarness();
        cli.Env.Remove("NEKKO_TOKEN");
        if (envToken is not null)
        {
            cli.Env["NEKKO_TOKEN"] = envToken;
        }

        if (tokenFileEnv is not null)
        {
            cli.Env["NEKKO_TOKEN_FILE"] = tokenFileEnv;
        }

        return cli;
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
