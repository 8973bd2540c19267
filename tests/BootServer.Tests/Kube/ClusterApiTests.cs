using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests.Kube;

/// <summary>The cluster API over a whole boot server on a real etcd: definition (validated, CAS), status, history.</summary>
[Collection(EtcdCollection.Name)]
public sealed class ClusterApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;
    private string _prefix = null!;

    public async Task InitializeAsync()
    {
        _prefix = EtcdFixture.NewPrefix();
        _app = new BootServerApp(etcd.Endpoint, _prefix);
        _admin = _app.Client(await _app.AdminTokenAsync());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>A complete, valid definition as an administrator writes it (the shape of docs/kube-installer.md).</summary>
    public static JsonObject Sample()
    {
        var sha = new string('a', 64);
        JsonObject Pin(string component, string version) => new() { ["component"] = component, ["version"] = version, ["assetName"] = $"{component}-{version}", ["sha256"] = sha };
        return new JsonObject
        {
            ["name"] = "lab",
            ["kubernetesVersion"] = "1.31.2",
            ["etcdVersion"] = "3.5.16",
            ["containerRuntimeVersion"] = "1.7.22",
            ["controlPlaneCount"] = 3,
            ["podCidr"] = "10.244.0.0/16",
            ["serviceCidr"] = "10.96.0.0/12",
            ["dnsDomain"] = "cluster.local",
            ["controlPlaneSelector"] = new JsonObject { ["role"] = "control-plane", ["labels"] = new JsonObject() },
            ["workerSelector"] = new JsonObject { ["role"] = "worker", ["labels"] = new JsonObject { ["zone"] = "a" } },
            ["binaries"] = new JsonArray(
                Pin("etcd", "3.5.16"), Pin("container-runtime", "1.7.22"), Pin("kube-apiserver", "1.31.2"), Pin("kube-controller-manager", "1.31.2"),
                Pin("kube-scheduler", "1.31.2"), Pin("kubelet", "1.31.2"), Pin("kube-proxy", "1.31.2")),
            ["extraFlags"] = new JsonObject { ["kube-apiserver"] = new JsonArray("--v=2") },
            ["controlPlaneRunsKubelet"] = false,
        };
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode expected)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"expected {(int)expected}, got {(int)r.StatusCode}: {body}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }

    private async Task AssertNothingStoredAsync() =>
        await Problem(await _admin.GetAsync("/api/v1/cluster"), HttpStatusCode.NotFound);

    [Fact]
    public async Task Definition_round_trips_with_its_revision_and_a_stale_if_match_is_409()
    {
        await AssertNothingStoredAsync();
        var put = await _admin.PutAsync("/api/v1/cluster", Json(Sample().ToJsonString()));
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        var firstEtag = put.Headers.ETag!.Tag;

        var get = await _admin.GetAsync("/api/v1/cluster");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(firstEtag, get.Headers.ETag!.Tag);
        var stored = JsonNode.Parse(await get.Content.ReadAsStringAsync())!;
        Assert.Equal("lab", (string?)stored["name"]);
        Assert.Equal("kube-scheduler", (string?)stored["binaries"]![4]!["component"]);
        Assert.Equal("--v=2", (string?)stored["extraFlags"]!["kube-apiserver"]![0]);
        Assert.False((bool)stored["controlPlaneRunsKubelet"]!);
        Assert.Equal("a", (string?)stored["workerSelector"]!["labels"]!["zone"]);

        // the installer reads what the API stored
        var definition = (await _app.Services.GetRequiredService<KubeInstaller.Execution.Control.ClusterDefinitionStore>().GetAsync(default)).Definition!;
        Assert.Equal(3, definition.ControlPlaneCount);
        Assert.Equal(["--v=2"], definition.ExtraFlags[KubeInstaller.Model.ClusterComponent.KubeApiserver]);

        // replace at the current revision: accepted; again with the old revision: 409, nothing changed
        var changed = Sample();
        changed["controlPlaneCount"] = 5;
        using var current = new HttpRequestMessage(HttpMethod.Put, "/api/v1/cluster") { Content = Json(changed.ToJsonString()) };
        current.Headers.IfMatch.Add(new EntityTagHeaderValue(firstEtag));
        var ok = await _admin.SendAsync(current);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.NotEqual(firstEtag, ok.Headers.ETag!.Tag);

        changed["controlPlaneCount"] = 1;
        using var stale = new HttpRequestMessage(HttpMethod.Put, "/api/v1/cluster") { Content = Json(changed.ToJsonString()) };
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue(firstEtag));
        var conflict = await Problem(await _admin.SendAsync(stale), HttpStatusCode.Conflict);
        Assert.Contains("changed since revision", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, (int)JsonNode.Parse(await _admin.GetStringAsync("/api/v1/cluster"))!["controlPlaneCount"]!);

        // each stored change has its audit entry (before/after), the refused one none
        var audit = JsonNode.Parse(await _admin.GetStringAsync("/api/v1/audit"))!.AsArray().Where(e => (string?)e!["action"] == "cluster.update").ToList();
        Assert.Equal(2, audit.Count);
        Assert.Equal(5, (int)audit[0]!["after"]!["controlPlaneCount"]!);
        Assert.Equal(3, (int)audit[0]!["before"]!["controlPlaneCount"]!);
        Assert.Null(audit[1]!["before"]);
        Assert.Equal("kube-apiserver", (string?)audit[1]!["after"]!["binaries"]![2]!["component"]);
    }

    [Fact]
    public async Task An_invalid_definition_is_400_with_every_problem_and_nothing_is_stored()
    {
        var bad = Sample();
        bad["controlPlaneCount"] = 0;
        bad["podCidr"] = "not-a-cidr";
        bad["binaries"]!.AsArray().RemoveAt(0); // no etcd pin
        var problem = await Problem(await _admin.PutAsync("/api/v1/cluster", Json(bad.ToJsonString())), HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").GetProperty("definition").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("controlPlaneCount:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("podCidr:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("no pinned etcd 3.5.16", StringComparison.Ordinal));
        await AssertNothingStoredAsync();
        Assert.DoesNotContain("cluster.update", await _admin.GetStringAsync("/api/v1/audit"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "$")]
    [InlineData("[1,2]", "$")]
    [InlineData("""{"name":"lab","surprise":1}""", "surprise")]
    public async Task A_bad_body_is_a_clear_400_and_nothing_is_stored(string body, string field)
    {
        var problem = await Problem(await _admin.PutAsync("/api/v1/cluster", Json(body)), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Wrong_types_unknown_components_and_missing_fields_name_the_field()
    {
        var wrongType = Sample();
        wrongType["controlPlaneCount"] = "three";
        var p1 = await Problem(await _admin.PutAsync("/api/v1/cluster", Json(wrongType.ToJsonString())), HttpStatusCode.BadRequest);
        Assert.True(p1.GetProperty("errors").TryGetProperty("controlPlaneCount", out _), p1.ToString());

        var unknownComponent = Sample();
        unknownComponent["binaries"]![0]!["component"] = "kube-dns";
        var p2 = await Problem(await _admin.PutAsync("/api/v1/cluster", Json(unknownComponent.ToJsonString())), HttpStatusCode.BadRequest);
        Assert.Contains("binaries", p2.GetProperty("errors").EnumerateObject().Single().Name, StringComparison.Ordinal);

        var missing = Sample();
        missing.Remove("dnsDomain");
        var p3 = await Problem(await _admin.PutAsync("/api/v1/cluster", Json(missing.ToJsonString())), HttpStatusCode.BadRequest);
        Assert.Contains("dnsDomain", p3.GetProperty("errors").GetProperty("$")[0].GetString(), StringComparison.Ordinal);

        var nullName = Sample();
        nullName["name"] = null;
        await Problem(await _admin.PutAsync("/api/v1/cluster", Json(nullName.ToJsonString())), HttpStatusCode.BadRequest);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_viewer_reads_but_cannot_write_and_no_token_is_401()
    {
        var created = await _admin.PostAsync("/api/v1/tokens", Json("""{"name":"watcher","role":"viewer"}"""));
        using var viewer = _app.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsync("/api/v1/cluster", Json(Sample().ToJsonString()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/cluster/status")).StatusCode);
        using var anonymous = _app.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/cluster/history")).StatusCode);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task History_is_the_newest_records_oldest_first_and_status_shows_the_last_operation_and_errors()
    {
        var store = _app.Services.GetRequiredService<EtcdStore>();
        var history = new EtcdOperationHistory(store);
        var t0 = DateTimeOffset.Parse("2026-11-25T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 4; i++)
        {
            var failed = i == 2;
            await history.RecordAsync(new OperationRecord(ClusterPhase.EtcdCluster, OperationKind.StartUnit, [$"n{i}"], $"op {i}",
                t0.AddSeconds(i), t0.AddSeconds(i + 0.5), failed ? OperationOutcome.Failed : OperationOutcome.Succeeded, failed ? "boom" : null), default);
        }

        var records = JsonNode.Parse(await _admin.GetStringAsync("/api/v1/cluster/history?limit=2"))!.AsArray();
        Assert.Equal(["op 2", "op 3"], records.Select(r => (string?)r!["description"]));
        Assert.Equal("failed", (string?)records[0]!["outcome"]);
        Assert.Equal(4, JsonNode.Parse(await _admin.GetStringAsync("/api/v1/cluster/history"))!.AsArray().Count);
        foreach (var bad in new[] { "0", "1001", "x", "-1" })
        {
            var problem = await Problem(await _admin.GetAsync("/api/v1/cluster/history?limit=" + bad), HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
        }

        // no key configured: the installer is off here, and status says so; the rest comes from etcd
        var status = JsonNode.Parse(await _admin.GetStringAsync("/api/v1/cluster/status"))!;
        Assert.False((bool)status["installerEnabled"]!);
        Assert.Contains("--kube-ssh-key", (string?)status["installerDisabledReason"], StringComparison.Ordinal);
        Assert.False((bool)status["defined"]!);
        Assert.Equal("op 3", (string?)status["lastOperation"]!["description"]);
        Assert.Equal("boom", (string?)status["recentErrors"]![0]!["error"]);
        Assert.Null(status["converged"]);
    }

    [Fact]
    public async Task Nekkoctl_sets_gets_and_reports_the_cluster_against_the_real_api()
    {
        var file = Path.Combine(_app.DataDir, "cluster.json");
        await File.WriteAllTextAsync(file, Sample().ToJsonString());
        var set = await _app.NekkoctlAsync("cluster", "set", "-f", file);
        Assert.True(set.Code == 0, set.Err);
        Assert.StartsWith("cluster lab saved", set.Out, StringComparison.Ordinal);

        var get = await _app.NekkoctlAsync("cluster", "get", "-o", "json");
        Assert.Equal(0, get.Code);
        Assert.Equal(3, (int)JsonNode.Parse(get.Out)!["controlPlaneCount"]!);

        var bad = Sample();
        bad["serviceCidr"] = "10.96.0.0/30";
        await File.WriteAllTextAsync(file, bad.ToJsonString());
        var refused = await _app.NekkoctlAsync("cluster", "set", "-f", file);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("serviceCidr", refused.Err, StringComparison.Ordinal);

        var status = await _app.NekkoctlAsync("cluster", "status");
        Assert.Equal(0, status.Code);
        Assert.Contains("installer: off on this boot server", status.Out, StringComparison.Ordinal);
        var history = await _app.NekkoctlAsync("cluster", "history", "--limit", "3");
        Assert.Equal(0, history.Code);
        Assert.StartsWith("FINISHED", history.Out, StringComparison.Ordinal);
    }
}
