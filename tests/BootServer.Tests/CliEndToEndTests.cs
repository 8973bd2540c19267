using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>nekkoctl against a whole boot server (in process) and a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class CliEndToEndTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        await _app.AdminTokenAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Nekkoctl(params string[] args) => _app.NekkoctlAsync(args);

    [Fact]
    public async Task AddListSetStateLabelAudit_UsingTheServersTokenFile()
    {
        var add = await Nekkoctl("machines", "add", "LAPTOP-01", "--mac", "52:54:00:20:00:01", "--role", "worker", "--label", "kind=laptop");
        Assert.True(add.Code == 0, add.Err);

        var list = await Nekkoctl("machines", "list");
        Assert.Equal(0, list.Code);
        var row = list.Out.Split('\n').Single(l => l.StartsWith("LAPTOP-01", StringComparison.Ordinal));
        Assert.Contains("10.69.0.1", row);
        Assert.Contains("uninitialized", row);

        Assert.Equal(0, (await Nekkoctl("machines", "set-state", "LAPTOP-01", "healthy")).Code);
        Assert.Equal(0, (await Nekkoctl("machines", "label", "LAPTOP-01", "zone=desk", "kind-")).Code);
        var get = await Nekkoctl("machines", "get", "LAPTOP-01", "-o", "json");
        var machine = System.Text.Json.JsonDocument.Parse(get.Out).RootElement;
        Assert.Equal("healthy", machine.GetProperty("state").GetString());
        Assert.Equal("desk", machine.GetProperty("labels").GetProperty("zone").GetString());
        Assert.False(machine.GetProperty("labels").TryGetProperty("kind", out _));

        var forbidden = await Nekkoctl("machines", "set-state", "LAPTOP-01", "retired");
        Assert.Equal(1, forbidden.Code);
        Assert.Contains("cannot go from healthy to retired", forbidden.Err);

        var audit = await Nekkoctl("audit", "--serial", "LAPTOP-01");
        Assert.Equal(0, audit.Code);
        Assert.Contains("machine.state", audit.Out);
        Assert.Contains("machine.create", audit.Out);

        var missing = await Nekkoctl("machines", "get", "NOPE");
        Assert.Equal(1, missing.Code);
        Assert.Contains("not found", missing.Err);
    }

    [Fact]
    public async Task IpamSet_And_ViewerTokenCannotWrite()
    {
        var set = await Nekkoctl("ipam", "set", "--subnet", "lab=192.168.30.0/24,range=192.168.30.100-192.168.30.150,gateway=192.168.30.1");
        Assert.True(set.Code == 0, set.Err);
        var get = await Nekkoctl("ipam", "get");
        Assert.Contains("192.168.30.100", get.Out);

        var created = await Nekkoctl("tokens", "create", "readonly", "--role", "viewer");
        Assert.Equal(0, created.Code);
        var viewerToken = created.Out.Trim();
        var denied = await Nekkoctl("--token", viewerToken, "machines", "add", "X1", "--mac", "52:54:00:20:00:02");
        Assert.Equal(1, denied.Code);
        Assert.Contains("403", denied.Err);
        var allowed = await Nekkoctl("--token", viewerToken, "machines", "list", "-o", "json");
        Assert.Equal(0, allowed.Code);
        Assert.Equal("[]", allowed.Out.Trim());
    }
}
