using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Profiles;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;
using YamlDotNet.RepresentationModel;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Boot profiles through the admin API and the rendered configuration at /boot/config/{serial}/… on one boot server
/// (in process) and a real etcd: versions, bad templates refused at save, 404s, install records, bootstrap tokens.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class ProfilesApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;
    private HttpClient _anonymous = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix());
        _admin = _app.Client(await _app.AdminTokenAsync());
        _anonymous = _app.Client(null);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _anonymous.Dispose();
        await _app.DisposeAsync();
    }

    private static StringContent Json<T>(T value) =>
        new(JsonSerializer.Serialize(value, InventoryJson.Options), Encoding.UTF8, "application/json");

    private Task<HttpResponseMessage> PutProfile(string role, BootProfileSpec spec) => _admin.PutAsync($"/api/v1/profiles/{role}", Json(spec));

    private static async Task<JsonElement> Ok(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"expected {(int)expected}, got {(int)r.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task RegisterAsync(string serial, string mac, string? role)
    {
        var body = role is null ? (object)new { serial, macs = new[] { mac } } : new { serial, macs = new[] { mac }, role };
        await Ok(await _admin.PostAsJsonAsync("/api/v1/machines", body), HttpStatusCode.Created);
    }

    [Fact]
    public async Task PutGetListDelete_AndEverySaveIncrementsTheVersion()
    {
        var created = await Ok(await PutProfile("worker", ProfilesSamples.CloudInit()), HttpStatusCode.Created);
        Assert.Equal(1, created.GetProperty("version").GetInt64());
        Assert.Equal("cloud-init", created.GetProperty("config").GetProperty("kind").GetString());

        var v2 = await Ok(await PutProfile("worker", ProfilesSamples.CloudInit() with { Cmdline = "console=tty0" }));
        Assert.Equal(2, v2.GetProperty("version").GetInt64());
        var v3 = await Ok(await PutProfile("worker", ProfilesSamples.IgnitionProfile() with { Version = 2 }));
        Assert.Equal(3, v3.GetProperty("version").GetInt64());

        var stale = await _admin.PutAsync("/api/v1/profiles/worker", Json(ProfilesSamples.CloudInit() with { Version = 2 }));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);

        await Ok(await PutProfile("storage", ProfilesSamples.CloudInit()), HttpStatusCode.Created);
        var list = await Ok(await _admin.GetAsync("/api/v1/profiles"));
        Assert.Equal(["storage", "worker"], list.EnumerateArray().Select(p => p.GetProperty("role").GetString()));
        var got = await Ok(await _admin.GetAsync("/api/v1/profiles/worker"));
        Assert.Equal(3, got.GetProperty("version").GetInt64());
        Assert.Equal("ignition", got.GetProperty("config").GetProperty("kind").GetString());

        await Ok(await _admin.DeleteAsync("/api/v1/profiles/storage"), HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/profiles/storage")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync("/api/v1/profiles/storage")).StatusCode);

        var audit = await Ok(await _admin.GetAsync("/api/v1/audit"));
        Assert.Equal(
            ["profile.delete", "profile.create", "profile.update", "profile.update", "profile.create"],
            audit.EnumerateArray().Select(e => e.GetProperty("action").GetString()).Where(a => a!.StartsWith("profile.", StringComparison.Ordinal)));
    }

    public static TheoryData<string, string> BadTemplates() => new()
    {
        { "config.userData", """{"kernel":"k","config":{"kind":"cloud-init","userData":"#cloud-config\nhostname: {{ hostname "}}""" },
        { "config.userData", """{"kernel":"k","config":{"kind":"cloud-init","userData":"#cloud-config\nhostname: {{ hostnme }}"}}""" },
        { "config.userData", """{"kernel":"k","config":{"kind":"cloud-init","userData":"hostname: x"}}""" },
        { "config.userData", """{"kernel":"k","config":{"kind":"cloud-init","userData":"#cloud-config\nusers: [a"}}""" },
        { "config.ignition", """{"kernel":"k","config":{"kind":"ignition","ignition":"{\"ignition\":{\"version\":\"2.3.0\"}}"}}""" },
        { "config.ignition", """{"kernel":"k","config":{"kind":"ignition","ignition":"{\"ignition\":{\"version\":\"3.4.0\"}"}}""" },
        { "cmdline", """{"kernel":"k","cmdline":"{{ serial | nope }}","config":{"kind":"cloud-init","userData":"#cloud-config\n"}}""" },
        { "kernel", """{"kernel":"../k","config":{"kind":"cloud-init","userData":"#cloud-config\n"}}""" },
        { "bogus", """{"kernel":"k","bogus":1,"config":{"kind":"cloud-init","userData":"#cloud-config\n"}}""" },
    };

    [Theory]
    [MemberData(nameof(BadTemplates))]
    public async Task BadProfile_Is400WithTheError_AndNothingIsSaved(string field, string body)
    {
        var r = await _admin.PutAsync("/api/v1/profiles/worker", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await Ok(r, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/profiles/worker")).StatusCode);
        Assert.Equal("[]", await _admin.GetStringAsync("/api/v1/profiles"));
        var audit = await Ok(await _admin.GetAsync("/api/v1/audit"));
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString()!.StartsWith("profile.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ViewerCannotSave_AndNoTokenIs401()
    {
        var token = (await Ok(await _admin.PostAsJsonAsync("/api/v1/tokens", new { name = "watcher", role = "viewer" }), HttpStatusCode.Created))
            .GetProperty("token").GetString();
        using var viewer = _app.Client(token);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsync("/api/v1/profiles/worker", Json(ProfilesSamples.CloudInit()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/profiles")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.GetAsync("/api/v1/profiles")).StatusCode);
    }

    [Fact]
    public async Task CloudInitConfig_IsRenderedForTheMachine_AndRecordsTheVersion()
    {
        await RegisterAsync("SN-0001", "52:54:00:12:34:56", "worker");
        await Ok(await PutProfile("worker", ProfilesSamples.CloudInit()), HttpStatusCode.Created);
        await Ok(await PutProfile("worker", ProfilesSamples.CloudInit() with { Cmdline = "quiet" }));

        var r = await _anonymous.GetAsync("/boot/config/SN-0001/user-data");
        var userData = await r.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("no-store", r.Headers.CacheControl?.ToString());
        Assert.StartsWith("#cloud-config\n", userData, StringComparison.Ordinal);
        var stream = new YamlStream();
        stream.Load(new StringReader(userData));
        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        Assert.Equal("sn-0001", root["hostname"].ToString());
        var agentJson = ((YamlSequenceNode)root["write_files"]).Children.Cast<YamlMappingNode>().First()["content"].ToString();
        var agent = JsonDocument.Parse(agentJson).RootElement;
        Assert.Equal("SN-0001", agent.GetProperty("serial").GetString());
        Assert.StartsWith("http://localhost", agent.GetProperty("server").GetString(), StringComparison.Ordinal);

        // ca_bundle: the boot-server HTTPS CA chain, as written to DATA_DIR/ca.pem
        var caFile = ((YamlSequenceNode)root["write_files"]).Children.Cast<YamlMappingNode>().Single(f => f["path"].ToString() == "/etc/nekko/ca.pem");
        var caPem = await File.ReadAllTextAsync(Path.Combine(_app.DataDir, "ca.pem"));
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", caPem, StringComparison.Ordinal);
        Assert.Equal(caPem, caFile["content"].ToString());

        // The minted agent token is real: single use, purpose "agent".
        var tokens = _app.Services.GetRequiredService<BootstrapTokenRepository>();
        var token = agent.GetProperty("bootstrapToken").GetString();
        Assert.StartsWith("nekkoboot_", token, StringComparison.Ordinal);
        Assert.NotNull(await tokens.ConsumeAsync(token, ConfigEndpoints.AgentBootstrapPurpose, default));
        Assert.Null(await tokens.ConsumeAsync(token, ConfigEndpoints.AgentBootstrapPurpose, default));

        var meta = await _anonymous.GetStringAsync("/boot/config/SN-0001/meta-data");
        Assert.Contains("instance-id: \"SN-0001-v2\"", meta, StringComparison.Ordinal);

        var install = await _app.Services.GetRequiredService<ProfileRepository>().GetInstallAsync("SN-0001", default);
        Assert.NotNull(install);
        Assert.Equal(2, install.ProfileVersion);
        Assert.Equal("worker", install.Role);

        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync("/boot/config/SN-0001/ignition.json")).StatusCode);
    }

    [Fact]
    public async Task IgnitionConfig_IsRenderedForTheMachine_AndValidAgainstTheSchema()
    {
        await RegisterAsync("SN-0002", "52:54:00:12:34:57", "control-plane");
        await Ok(await PutProfile("control-plane", ProfilesSamples.IgnitionProfile()), HttpStatusCode.Created);

        var r = await _anonymous.GetAsync("/boot/config/SN-0002/ignition.json");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var results = ProfilesRenderingTests.Validate(await r.Content.ReadAsStringAsync());
        Assert.True(results.IsValid, ProfilesRenderingTests.Errors(results));
        Assert.Equal(1, (await _app.Services.GetRequiredService<ProfileRepository>().GetInstallAsync("SN-0002", default))!.ProfileVersion);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync("/boot/config/SN-0002/user-data")).StatusCode);
    }

    [Theory]
    [InlineData("/boot/config/NO-SUCH-SERIAL/user-data")]
    [InlineData("/boot/config/NO-SUCH-SERIAL/meta-data")]
    [InlineData("/boot/config/NO-SUCH-SERIAL/ignition.json")]
    [InlineData("/boot/config/SN-ROLELESS/user-data")]
    [InlineData("/boot/config/SN-NOPROFILE/user-data")]
    [InlineData("/boot/config/..%2F..%2Fetc/user-data")]
    public async Task UnknownSerial_MachineWithoutRole_OrRoleWithoutProfile_Is404(string path)
    {
        await RegisterAsync("SN-ROLELESS", "52:54:00:12:34:58", null);
        await RegisterAsync("SN-NOPROFILE", "52:54:00:12:34:59", "storage");
        await Ok(await PutProfile("worker", ProfilesSamples.CloudInit()), HttpStatusCode.Created);
        var r = await _anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }
}
