using System.Text.Json;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary><c>nekkoctl profiles</c> against a whole boot server (in process) and a real etcd: what the CLI sends, the strict API accepts.</summary>
[Collection(EtcdCollection.Name)]
public sealed class ProfilesCliTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("nekkoctl-profiles-e2e-").FullName;
    private BootServerApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        await _app.AdminTokenAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private Task<(int Code, string Out, string Err)> Nekkoctl(params string[] args) => _app.NekkoctlAsync(args);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task SetGetListDelete_ThroughTheRealApi()
    {
        var userData = WriteFile("user-data", ProfilesSamples.UserData);
        var keys = WriteFile("authorized_keys", ProfilesSamples.SshKey + "\n");
        var set = await Nekkoctl("profiles", "set", "worker", "--kernel", "debian-vmlinuz", "--initrd", "debian-initrd.img",
            "--cmdline", "console=ttyS0", "--user-data", userData, "--ssh-keys", keys);
        Assert.True(set.Code == 0, set.Err);
        Assert.Contains("worker", set.Out, StringComparison.Ordinal);

        var ignition = WriteFile("config.ign", ProfilesSamples.Ignition);
        var again = await Nekkoctl("profiles", "set", "worker", "--kernel", "fcos-kernel", "--ignition", ignition, "--ssh-keys", keys, "--expect-version", "1", "-o", "json");
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(2, JsonDocument.Parse(again.Out).RootElement.GetProperty("version").GetInt64());

        var stale = await Nekkoctl("profiles", "set", "worker", "--kernel", "k", "--ignition", ignition, "--expect-version", "1");
        Assert.NotEqual(0, stale.Code);

        var bad = await Nekkoctl("profiles", "set", "storage", "--kernel", "k", "--user-data", WriteFile("bad", "#cloud-config\nhost: {{ hostnme }}\n"));
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("hostnme", bad.Err, StringComparison.Ordinal);

        var get = await Nekkoctl("profiles", "get", "worker", "-o", "json");
        Assert.Equal(0, get.Code);
        var profile = JsonDocument.Parse(get.Out).RootElement;
        Assert.Equal("ignition", profile.GetProperty("config").GetProperty("kind").GetString());
        Assert.Equal(ProfilesSamples.SshKey, profile.GetProperty("sshAuthorizedKeys")[0].GetString());

        var list = await Nekkoctl("profiles", "list");
        Assert.Equal(0, list.Code);
        Assert.DoesNotContain("storage", list.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await Nekkoctl("profiles", "delete", "worker")).Code);
        Assert.NotEqual(0, (await Nekkoctl("profiles", "get", "worker")).Code);
    }
}
