using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The admin API over the whole boot server against a real etcd: auth, bad input, 404, 409, OpenAPI.</summary>
[Collection(EtcdCollection.Name)]
public sealed class ApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?> { ["maxRequestBodyBytes"] = "65536" });
        _admin = _app.Client(await _app.AdminTokenAsync());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode expected)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"expected {(int)expected}, got {(int)r.StatusCode}: {body}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private async Task<string> ViewerTokenAsync()
    {
        var r = await _admin.PostAsync("/api/v1/tokens", Json("""{"name":"watcher","role":"viewer"}"""));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    private async Task AssertNothingWrittenAsync()
    {
        Assert.Equal("[]", await _admin.GetStringAsync("/api/v1/machines"));
        var audit = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/audit");
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString()!.StartsWith("machine.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoToken_Or_UnknownToken_Is401Problem()
    {
        using var anonymous = _app.Client(null);
        var r = await anonymous.GetAsync("/api/v1/machines");
        await Problem(r, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", r.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = _app.Client("nekko_not-a-real-token");
        var p = await Problem(await wrong.GetAsync("/api/v1/machines"), HttpStatusCode.Unauthorized);
        Assert.Contains("unknown", p.GetProperty("detail").GetString());

        using var malformed = _app.CreateClient();
        malformed.DefaultRequestHeaders.Add("Authorization", "Basic Zm9vOmJhcg==");
        await Problem(await malformed.GetAsync("/api/v1/machines"), HttpStatusCode.Unauthorized);
        await Problem(await anonymous.PostAsync("/api/v1/machines", Json("""{"serial":"X","macs":["52:54:00:00:00:01"]}""")), HttpStatusCode.Unauthorized);
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task Viewer_CanRead_ButEveryMutationIs403()
    {
        using var viewer = _app.Client(await ViewerTokenAsync());
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/machines")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/ipam")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/audit")).StatusCode);

        await Problem(await viewer.PostAsync("/api/v1/machines", Json("""{"serial":"V1","macs":["52:54:00:00:00:01"]}""")), HttpStatusCode.Forbidden);
        await Problem(await viewer.PutAsync("/api/v1/ipam", Json("""{"subnets":[]}""")), HttpStatusCode.Forbidden);
        await Problem(await viewer.PatchAsync("/api/v1/machines/V1", Json("{}")), HttpStatusCode.Forbidden);
        await Problem(await viewer.DeleteAsync("/api/v1/machines/V1"), HttpStatusCode.Forbidden);
        await Problem(await viewer.PutAsync("/api/v1/machines/V1/state", Json("""{"state":"healthy"}""")), HttpStatusCode.Forbidden);
        await Problem(await viewer.GetAsync("/api/v1/tokens"), HttpStatusCode.Forbidden);
        await Problem(await viewer.PostAsync("/api/v1/tokens", Json("""{"name":"x","role":"admin"}""")), HttpStatusCode.Forbidden);
        await AssertNothingWrittenAsync();
    }

    [Theory]
    [InlineData("{not json", "$")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:01"],"bogus":1}""", "bogus")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:01"],"rack":"seven"}""", "rack")]
    [InlineData("""{"serial":"A1","macs":"52:54:00:00:00:01"}""", "macs")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:0g"]}""", "macs[0]")]
    [InlineData("""{"serial":"A 1","macs":["52:54:00:00:00:01"]}""", "serial")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:01"],"uuid":"nope"}""", "uuid")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:01"],"labels":{"ok":"bad value!"}}""", "labels.ok")]
    [InlineData("""{"serial":"A1","macs":["52:54:00:00:00:01"],"power":{"wolMac":"ff:ff:ff:ff:ff:ff"}}""", "power.wolMac")]
    [InlineData("""[{"serial":"A1","macs":["52:54:00:00:00:01"]},{"serial":"A2","macs":[]}]""", "[1].macs")]
    [InlineData("""[{"serial":"A1","macs":["52:54:00:00:00:01"]},{"serial":"A2","macs":["52:54:00:00:00:02"],"x":1}]""", "[1].x")]
    [InlineData("42", "$")]
    [InlineData("null", "$")]
    public async Task Register_BadBody_Is400NamingTheField_AndWritesNothing(string body, string field)
    {
        var p = await Problem(await _admin.PostAsync("/api/v1/machines", Json(body)), HttpStatusCode.BadRequest);
        var errors = p.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"no error for '{field}' in {p}");
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task WrongContentType_Is415_AndOversizeBody_Is413()
    {
        await Problem(await _admin.PostAsync("/api/v1/machines",
            new StringContent("""{"serial":"A1","macs":["52:54:00:00:00:01"]}""", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);

        var big = "[" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{"serial":"BIG{{i}}","macs":["52:54:00:00:{{i / 256:x2}}:{{i % 256:x2}}"]}""")) + "]";
        Assert.True(big.Length > 65536);
        await Problem(await _admin.PostAsync("/api/v1/machines", Json(big)), HttpStatusCode.RequestEntityTooLarge);
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task BadQueries_And_BadStateBodies_Are400()
    {
        await Problem(await _admin.GetAsync("/api/v1/machines?state=dancing"), HttpStatusCode.BadRequest);
        await Problem(await _admin.GetAsync("/api/v1/machines?label=novalue"), HttpStatusCode.BadRequest);
        await Problem(await _admin.GetAsync("/api/v1/machines?mac=zz"), HttpStatusCode.BadRequest);
        await Problem(await _admin.GetAsync("/api/v1/machines?colour=red"), HttpStatusCode.BadRequest);
        await Problem(await _admin.GetAsync("/api/v1/audit?limit=0"), HttpStatusCode.BadRequest);
        await Problem(await _admin.GetAsync("/api/v1/audit?since=yesterday"), HttpStatusCode.BadRequest);
        await _admin.PostAsync("/api/v1/machines", Json("""{"serial":"S1","macs":["52:54:00:00:00:01"]}"""));
        var p = await Problem(await _admin.PutAsync("/api/v1/machines/S1/state", Json("""{"state":"dancing"}""")), HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("state", out _));
        await Problem(await _admin.PutAsync("/api/v1/machines/S1/state", Json("""{}""")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UnknownMachine_Is404_ForEveryRoute()
    {
        await Problem(await _admin.GetAsync("/api/v1/machines/ghost"), HttpStatusCode.NotFound);
        await Problem(await _admin.PatchAsync("/api/v1/machines/ghost", Json("""{"role":"x"}""")), HttpStatusCode.NotFound);
        await Problem(await _admin.DeleteAsync("/api/v1/machines/ghost"), HttpStatusCode.NotFound);
        await Problem(await _admin.PutAsync("/api/v1/machines/ghost/state", Json("""{"state":"healthy"}""")), HttpStatusCode.NotFound);
        await Problem(await _admin.GetAsync("/api/v1/machines/..%2F..%2Fetc%2Fpasswd"), HttpStatusCode.NotFound);
        await Problem(await _admin.GetAsync("/api/v1/nothing-here"), HttpStatusCode.NotFound);
        await Problem(await _admin.DeleteAsync("/api/v1/tokens/ghost"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Conflicts_Are409_AndChangeNothing()
    {
        var created = await _admin.PostAsync("/api/v1/machines", Json("""{"serial":"C1","macs":["52:54:00:00:00:01"],"role":"worker"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/machines/C1", created.Headers.Location?.OriginalString);
        var machine = await created.Content.ReadFromJsonAsync<JsonElement>();
        var revision = machine.GetProperty("revision").GetInt64();

        await Problem(await _admin.PostAsync("/api/v1/machines", Json("""{"serial":"C1","macs":["52:54:00:00:00:09"]}""")), HttpStatusCode.Conflict);
        await Problem(await _admin.PostAsync("/api/v1/machines", Json("""{"serial":"C2","macs":["52:54:00:00:00:01"]}""")), HttpStatusCode.Conflict);
        var forbidden = await Problem(await _admin.PutAsync("/api/v1/machines/C1/state", Json("""{"state":"retired"}""")), HttpStatusCode.Conflict);
        Assert.Contains("allowed from uninitialized", forbidden.GetProperty("detail").GetString());
        await Problem(await _admin.DeleteAsync("/api/v1/machines/C1"), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.OK, (await _admin.PatchAsync("/api/v1/machines/C1", Json("""{"labels":{"a":"1"}}"""))).StatusCode);
        var stale = await Problem(await _admin.PatchAsync("/api/v1/machines/C1", Json($$"""{"role":"storage","revision":{{revision}}}""")), HttpStatusCode.Conflict);
        Assert.Contains("changed since revision", stale.GetProperty("detail").GetString());

        var now = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines/C1");
        Assert.Equal("worker", now.GetProperty("role").GetString());
        Assert.Equal("uninitialized", now.GetProperty("state").GetString());
        Assert.Equal(1, (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines")).GetArrayLength());
    }

    [Fact]
    public async Task Lifecycle_ThroughTheApi_WithAuditAndIpam()
    {
        var ipam = await _admin.PutAsync("/api/v1/ipam", Json("""{"subnets":[{"name":"lab","cidr":"192.168.7.0/24","rangeStart":"192.168.7.50","rangeEnd":"192.168.7.99","gateway":"192.168.7.1","dns":["192.168.7.1"]}]}"""));
        Assert.Equal(HttpStatusCode.OK, ipam.StatusCode);
        var bulk = await _admin.PostAsync("/api/v1/machines", Json("""
            [{"serial":"L1","macs":["52:54:00:00:01:01"],"role":"worker","labels":{"zone":"a"}},
             {"serial":"L2","macs":["52:54:00:00:01:02"],"role":"worker","labels":{"zone":"b"}}]
            """));
        Assert.Equal(HttpStatusCode.Created, bulk.StatusCode);
        var machines = await bulk.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["192.168.7.50", "192.168.7.51"], machines.EnumerateArray().Select(m => m.GetProperty("ipv4")[0].GetString()).Order());

        var zoneA = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/machines?role=worker&label=zone%3Da");
        Assert.Equal("L1", zoneA.EnumerateArray().Single().GetProperty("serial").GetString());

        foreach (var state in new[] { "healthy", "retiring", "retired" })
        {
            var r = await _admin.PutAsync("/api/v1/machines/L1/state", Json($$"""{"state":"{{state}}","reason":"test"}"""));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync("/api/v1/machines/L1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/machines/L1")).StatusCode);

        var audit = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?serial=L1");
        Assert.Equal(["machine.delete", "machine.state", "machine.state", "machine.state", "machine.create"],
            audit.EnumerateArray().Select(e => e.GetProperty("action").GetString()));
        Assert.All(audit.EnumerateArray(), e => Assert.Equal("admin", e.GetProperty("actor").GetString()));

        var badIpam = await Problem(await _admin.PutAsync("/api/v1/ipam", Json("""{"subnets":[{"name":"x","cidr":"10.0.0.0/33"}]}""")), HttpStatusCode.BadRequest);
        Assert.True(badIpam.GetProperty("errors").TryGetProperty("subnets[0].cidr", out _));
        var stranding = await Problem(await _admin.PutAsync("/api/v1/ipam", Json("""{"subnets":[{"name":"x","cidr":"10.0.0.0/24"}]}""")), HttpStatusCode.Conflict);
        Assert.Contains("L2", stranding.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Tokens_SecretShownOnce_StoredHashed_LastAdminProtected()
    {
        var created = await (await _admin.PostAsync("/api/v1/tokens", Json("""{"name":"ci","role":"admin"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        var secret = created.GetProperty("token").GetString()!;
        var list = await _admin.GetStringAsync("/api/v1/tokens");
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain("sha256", list);

        using var ci = _app.Client(secret);
        Assert.Equal(HttpStatusCode.NoContent, (await ci.DeleteAsync("/api/v1/tokens/admin")).StatusCode);
        var last = await Problem(await ci.DeleteAsync("/api/v1/tokens/ci"), HttpStatusCode.Conflict);
        Assert.Contains("last admin token", last.GetProperty("detail").GetString());
        await Problem(await _admin.GetAsync("/api/v1/machines"), HttpStatusCode.Unauthorized); // revoked at once
        await Problem(await ci.PostAsync("/api/v1/tokens", Json("""{"name":"Bad Name","role":"viewer"}""")), HttpStatusCode.BadRequest);
        await Problem(await ci.PostAsync("/api/v1/tokens", Json("""{"name":"ci","role":"viewer"}""")), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task OpenApiDocument_ListsEveryApiRoute()
    {
        using var anonymous = _app.Client(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json"))!;
        var paths = doc["paths"]!.AsObject();

        var routes = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods
                .Select(m => (Path: "/" + e.RoutePattern.RawText!.Trim('/'), Method: m.ToLowerInvariant())))
            .ToList();
        Assert.True(routes.Count >= 12, $"only {routes.Count} routes found");
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.ContainsKey(path), $"{path} missing from the OpenAPI document");
            Assert.True(paths[path]!.AsObject().ContainsKey(method), $"{method} {path} missing from the OpenAPI document");
        }

        Assert.NotNull(doc["components"]?["securitySchemes"]?["bearer"]);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api-docs")).StatusCode);
    }

    [Fact]
    public async Task Health_LiveAndReady()
    {
        using var anonymous = _app.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.True(ready.GetProperty("ready").GetBoolean());
        Assert.True(ready.GetProperty("etcd").GetBoolean());
    }
}
