using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>iPXE script endpoint and discovery API over the whole boot server and a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed partial class DiscoveryTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;

    [GeneratedRegex(@"nekko\.token=(\S+)")]
    private static partial Regex TokenInScript();

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        _admin = _app.Client(await _app.AdminTokenAsync());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    private static HttpRequestMessage Report(string token, string json) => new(HttpMethod.Post, "/api/v1/discovery")
    {
        Content = new StringContent(json, Encoding.UTF8, "application/json"),
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    [Fact]
    public async Task UnknownMachine_GetsDiscovery_Registers_ThenBootsLocally()
    {
        using var firmware = _app.Client(null);
        var chain = await firmware.GetStringAsync("/boot/boot.ipxe");
        Assert.Contains("chain --autofree http://localhost/boot/ipxe?serial=${serial:uristring}", chain);

        var script = await firmware.GetStringAsync("/boot/ipxe?serial=To%20be%20filled%20by%20O.E.M.&uuid=4c4c4544-0042-3510-8051-b4c04f4e3232&mac=52-54-00-21-40-01");
        Assert.Contains("kernel http://localhost/boot/discovery/vmlinuz?mac=52:54:00:21:40:01", script);
        var token = TokenInScript().Match(script).Groups[1].Value;
        Assert.StartsWith("nekkoboot_", token, StringComparison.Ordinal);

        const string facts = """
            {"serial":"To be filled by O.E.M.","uuid":"4c4c4544-0042-3510-8051-b4c04f4e3232","macs":["52:54:00:21:40:01"],
             "hardware":{"cpu":{"model":"QEMU Virtual CPU","threads":1},"memoryBytes":536870912,"disks":[],"nics":[{"name":"eth0","mac":"52:54:00:21:40:01"}]}}
            """;
        var bad = await firmware.SendAsync(Report(token, """{"macs":"nope"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode); // a bad body does not use up the token

        var ok = await firmware.SendAsync(Report(token, facts));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var answer = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("uuid-4c4c4544-0042-3510-8051-b4c04f4e3232", answer.GetProperty("serial").GetString());
        Assert.Equal("10.69.0.1", answer.GetProperty("ipv4")[0].GetString());
        Assert.Equal("reboot", answer.GetProperty("action").GetString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await firmware.SendAsync(Report(token, facts))).StatusCode); // single use

        var next = await firmware.GetStringAsync("/boot/ipxe?serial=&uuid=&mac=52-54-00-21-40-01");
        Assert.Contains("exit", next);
        Assert.DoesNotContain("nekko.token", next);

        await _app.Services.GetRequiredService<Inventory.Boot.BootProgressRecorder>().FlushAsync(default);
        var machine = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines/uuid-4c4c4544-0042-3510-8051-b4c04f4e3232");
        Assert.Equal("uninitialized", machine.GetProperty("state").GetString());
        Assert.Equal(536870912, machine.GetProperty("hardware").GetProperty("memoryBytes").GetInt64());
        Assert.Equal("52:54:00:21:40:01", machine.GetProperty("power").GetProperty("wolMac").GetString());
        var stages = machine.GetProperty("bootProgress").GetProperty("stages");
        Assert.True(stages.TryGetProperty("script", out _));
        Assert.True(stages.TryGetProperty("discovered", out _));
        Assert.True(stages.TryGetProperty("local-boot", out _));
    }

    [Fact]
    public async Task Rediscovery_RefreshesFacts_WithoutANewMachine()
    {
        using var firmware = _app.Client(null);
        var script = await firmware.GetStringAsync("/boot/ipxe?serial=PC-42&mac=52-54-00-21-40-02");
        var token = TokenInScript().Match(script).Groups[1].Value;
        var first = await firmware.SendAsync(Report(token, """{"serial":"PC-42","macs":["52:54:00:21:40:02"],"hardware":{"memoryBytes":1}}"""));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // A known machine is told to boot locally; a reinstall would hand it a new discovery token.
        Assert.Contains("exit", await firmware.GetStringAsync("/boot/ipxe?serial=PC-42&mac=52-54-00-21-40-02"));
        var bootstrap = _app.Services.GetRequiredService<Inventory.Boot.BootstrapTokenRepository>();
        var again = await bootstrap.IssueAsync("discovery", TimeSpan.FromMinutes(1), null, default);
        var second = await firmware.SendAsync(Report(again, """{"serial":"PC-42","macs":["52:54:00:21:40:02"],"hardware":{"memoryBytes":2}}"""));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        var list = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines");
        var machine = Assert.Single(list.EnumerateArray());
        Assert.Equal(2, machine.GetProperty("hardware").GetProperty("memoryBytes").GetInt64());
    }

    [Fact]
    public async Task AutoAcceptOff_HoldsTheMachine_UntilAnAdminAccepts()
    {
        await using var app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?> { ["discoveryAutoAccept"] = "false" });
        using var admin = app.Client(await app.AdminTokenAsync());
        using var firmware = app.Client(null);
        async Task<HttpResponseMessage> Report(string serial, string mac)
        {
            var script = await firmware.GetStringAsync($"/boot/ipxe?serial={serial}&mac={mac.Replace(':', '-')}");
            return await firmware.SendAsync(DiscoveryTests.Report(TokenInScript().Match(script).Groups[1].Value,
                $$"""{"serial":"{{serial}}","macs":["{{mac}}"]}"""));
        }

        Assert.Equal(HttpStatusCode.Accepted, (await Report("HOLD-1", "52:54:00:21:41:01")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Report("HOLD-2", "52:54:00:21:41:02")).StatusCode);
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/machines")).GetArrayLength());
        var pending = await admin.GetFromJsonAsync<JsonElement>("/api/v1/discovery/pending");
        Assert.Equal(["HOLD-1", "HOLD-2"], pending.EnumerateArray().Select(p => p.GetProperty("serial").GetString()).Order());

        var accepted = await admin.PostAsync("/api/v1/discovery/pending/HOLD-1/accept", null);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/discovery/pending/HOLD-2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/v1/discovery/pending/HOLD-2/accept", null)).StatusCode);

        var machines = await admin.GetFromJsonAsync<JsonElement>("/api/v1/machines");
        Assert.Equal("HOLD-1", Assert.Single(machines.EnumerateArray()).GetProperty("serial").GetString());
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/discovery/pending")).GetArrayLength());

        // once accepted it is known: its next network boot goes to its local disk, not to discovery
        Assert.Contains("exit", await firmware.GetStringAsync("/boot/ipxe?serial=HOLD-1&mac=52-54-00-21-41-01"));
    }

    [Theory]
    [InlineData("/boot/ipxe")]
    [InlineData("/boot/ipxe?serial=0123456789&uuid=00000000-0000-0000-0000-000000000000&mac=zz")]
    public async Task UnidentifiableMachine_Is400(string url)
    {
        using var firmware = _app.Client(null);
        Assert.Equal(HttpStatusCode.BadRequest, (await firmware.GetAsync(url)).StatusCode);
    }

    [Theory]
    [InlineData("/boot/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/boot/passwd")]
    [InlineData("/boot/discovery/..%2Fadmin.token")]
    [InlineData("/boot/discovery/vmlinuz")]
    [InlineData("/boot/.ipxe.efi")]
    public async Task HostilePaths_And_MissingFiles_Are404(string url)
    {
        using var firmware = _app.Client(null);
        Assert.Equal(HttpStatusCode.NotFound, (await firmware.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Discovery_WithoutToken_Or_WithAnApiToken_Is401()
    {
        using var firmware = _app.Client(null);
        var facts = """{"serial":"X1","macs":["52:54:00:21:40:03"]}""";
        Assert.Equal(HttpStatusCode.Unauthorized, (await firmware.PostAsync("/api/v1/discovery", new StringContent(facts, Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await firmware.SendAsync(Report("nekkoboot_forged", facts))).StatusCode);
        Assert.Equal(0, (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines")).GetArrayLength());
    }
}
