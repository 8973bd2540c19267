using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.Tests;

/// <summary>Flags, environment and validation of nekko-bootserver's settings (no server started).</summary>
public sealed class SettingsTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void Flags_OverrideEnvironment_BothFormsOfFlags()
    {
        var env = new Dictionary<string, string?> { ["NEKKO_DATA_DIR"] = "/env", ["NEKKO_ETCD_PREFIX"] = "/p/" };
        var (values, config, errors, host) = BootServerSettings.Parse(["--data-dir", "/flag", "--http-url=http://127.0.0.1:1", "--config", "/c.json", "--environment=Development"], env);
        Assert.Empty(errors);
        Assert.Equal("/flag", values["dataDir"]);
        Assert.Equal("/p/", values["etcdPrefix"]);
        Assert.Equal("http://127.0.0.1:1", values["httpUrl"]);
        Assert.Equal("/c.json", config);
        Assert.Equal(["--environment=Development"], host);
    }

    [Fact]
    public void UnknownFlags_AndMissingValues_AreAllReported()
    {
        var (_, _, errors, _) = BootServerSettings.Parse(["--nope", "1", "stray", "--data-dir"], NoEnv);
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("--nope", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("stray", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("--data-dir needs a value", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_ListsEveryProblem()
    {
        var result = new BootServerOptionsValidator().Validate(null, new BootServerOptions
        {
            DataDir = "relative",
            HttpUrl = "http://0.0.0.0:8080/sub",
            EtcdEndpoints = "",
            EtcdPrefix = "nekko",
            EtcdBinary = "/nonexistent/etcd",
            EmbeddedEtcdClientPort = 5,
            EmbeddedEtcdPeerPort = 5,
            DefaultSubnet = "10.0.0.0/33",
            MaxRequestBodyBytes = 1,
        });
        Assert.True(result.Failed);
        Assert.Equal(7, result.Failures!.Count());
    }

    [Fact]
    public void Help_ListsEveryFlag()
    {
        var help = BootServerSettings.Help();
        Assert.All(BootServerSettings.All, s =>
        {
            Assert.Contains(s.Flag, help, StringComparison.Ordinal);
            Assert.Contains(s.Env, help, StringComparison.Ordinal);
        });
    }
}
