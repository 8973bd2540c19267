using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Pki;
using NekkoMetal.TestKit;

using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// The agent API on one boot server (in process) and a real etcd: heartbeats authenticated by the machine's agent
/// client certificate (enrolled with its bootstrap token; ASP.NET's test server hands the certificate to the request
/// as a TLS handshake would — AgentMtlsTests does it over real TLS), stored as <c>health/{serial}</c>; bad bodies 400,
/// no certificate 401, another machine's 403, a certificate of a machine the inventory does not know 403, nothing
/// written then; the health view; the controllers' leader election and Quartz sweep wired in the host.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class AgentApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private const string Serial = "SN-0600";
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;
    private HttpClient _anonymous = null!;
    private X509Certificate2 _certificate = null!;

    public async Task InitializeAsync()
    {
        _app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?> { ["leaderLeaseSeconds"] = "3" });
        _admin = _app.Client(await _app.AdminTokenAsync());
        _anonymous = _app.Client(null);
        await Expect(await _admin.PostAsync("/api/v1/machines", JsonOf(new { serial = Serial, macs = new[] { "52:54:00:06:00:01" } })), HttpStatusCode.Created);
        _certificate = await AgentCredentialsKit.EnrolAsync(_anonymous, await AgentTokenAsync(Serial));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _anonymous.Dispose();
        _certificate.Dispose();
        await _app.DisposeAsync();
    }

    private Task<string> AgentTokenAsync(string serial) =>
        _app.Services.GetRequiredService<BootstrapTokenRepository>()
            .IssueForMachineAsync(ConfigEndpoints.AgentBootstrapPurpose, TimeSpan.FromHours(1), null, serial, default);

    /// <summary>A heartbeat on a connection that presented <paramref name="certificate"/> (none when null).</summary>
    private async Task<HttpResponseMessage> BeatAsync(X509Certificate2? certificate, HttpContent body)
    {
        using var client = new HttpClient(_app.Server.CreateHandler(c => c.Connection.ClientCertificate = certificate)) { BaseAddress = new Uri("http://localhost") };
        return await client.PostAsync(AgentApi.HeartbeatPath, body);
    }

    /// <summary>A certificate of the real agent CA for <paramref name="serial"/>, whether or not the inventory knows it.</summary>
    private async Task<X509Certificate2> SignedForAsync(string serial)
    {
        var (key, csr) = AgentCredentialsKit.NewCsr();
        using var issued = await _app.Services.GetRequiredService<ICertificateIssuer>()
            .SignAsync(CaKind.AgentClient, csr, CertificateProfiles.AgentClient(serial, TimeSpan.FromHours(1)), default);
        using var withKey = issued.Certificate.CopyWithPrivateKey(key);
        key.Dispose();
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private static object Body(string serial, string diskStatus = "ok") => new
    {
        serial,
        timestamp = "2026-11-25T09:00:00Z",
        checks = new object[]
        {
            new { name = "fs.root", status = "ok", message = "12% used", critical = true },
            new { name = "disk.smart", status = diskStatus, message = "reallocated sectors: 0", critical = true },
            new { name = "battery", status = "warning", critical = false },
        },
    };

    private async Task<MachineHealth?> StoredAsync(string serial) =>
        await _app.Services.GetRequiredService<HealthRepository>().GetAsync(serial, default);

    [Fact]
    public async Task Heartbeat_WithTheMachinesCertificate_IsStored_AndShownInTheHealthView()
    {
        var ack = await Expect(await BeatAsync(_certificate, JsonOf(Body(Serial, "critical"))), HttpStatusCode.OK);
        Assert.Equal(Serial, ack.GetProperty("serial").GetString());
        Assert.Equal("uninitialized", ack.GetProperty("state").GetString());

        var stored = await StoredAsync(Serial);
        Assert.NotNull(stored);
        Assert.Equal(3, stored.Checks.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero), stored.ReportedAt);
        Assert.NotNull(stored.Checks.Single(c => c.Name == "disk.smart").FailingSince);

        // The agent keeps heartbeating with its certificate.
        await Expect(await BeatAsync(_certificate, JsonOf(Body(Serial))), HttpStatusCode.OK);

        var view = await Expect(await _admin.GetAsync($"/api/v1/machines/{Serial}/health"), HttpStatusCode.OK);
        Assert.Equal("uninitialized", view.GetProperty("state").GetString());
        Assert.True(view.GetProperty("managed").GetBoolean());
        Assert.Equal(90, view.GetProperty("unreachableAfterSeconds").GetDouble());
        var checks = view.GetProperty("health").GetProperty("checks");
        Assert.Equal("ok", checks[1].GetProperty("status").GetString());
        Assert.False(checks[1].TryGetProperty("failingSince", out _));

        var cli = await _app.NekkoctlAsync("machines", "health", Serial);
        Assert.True(cli.Code == 0, cli.Err);
        Assert.Contains("machine SN-0600: uninitialized since ", cli.Out, StringComparison.Ordinal);
        Assert.Contains("(set by the state setter)", cli.Out, StringComparison.Ordinal);
        Assert.Contains("unreachable after 90 s without a heartbeat", cli.Out, StringComparison.Ordinal);
        Assert.Matches(@"disk\.smart\s+ok\s+yes\s+<none>\s+reallocated sectors: 0", cli.Out);
        Assert.Matches(@"battery\s+warning\s+no\s+<none>\s+<none>", cli.Out);
        await Expect(await _anonymous.GetAsync($"/api/v1/machines/{Serial}/health"), HttpStatusCode.Unauthorized);
        await Expect(await _admin.GetAsync("/api/v1/machines/SN-NOPE/health"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("{\"serial\":\"SN-0600\",\"timestamp\":\"2026-11-25T09:00:00Z\",\"checks\":[{\"name\":\"a\",\"status\":\"sick\"}]}", "checks[0].status")]
    [InlineData("{\"serial\":\"SN-0600\",\"timestamp\":\"2026-11-25T09:00:00Z\",\"checks\":[{\"name\":\"a b\",\"status\":\"ok\"}]}", "checks[0].name")]
    [InlineData("{\"serial\":\"SN-0600\",\"timestamp\":\"2026-11-25T09:00:00Z\",\"checks\":[{\"name\":\"a\",\"status\":\"ok\"},{\"name\":\"a\",\"status\":\"ok\"}]}", "checks[1].name")]
    [InlineData("{\"serial\":\"SN-0600\",\"checks\":[]}", "timestamp")]
    [InlineData("{\"serial\":\"SN-0600\",\"timestamp\":\"2026-11-25T09:00:00Z\",\"checks\":[],\"extra\":1}", "extra")]
    [InlineData("{\"serial\":\"SN-0600\",\"timestamp\":\"yesterday\",\"checks\":[]}", "timestamp")]
    [InlineData("{\"serial\":", "$")]
    public async Task Heartbeat_BadBody_Is400WithTheField_AndNothingIsStored(string body, string field)
    {
        var problem = await Expect(await BeatAsync(_certificate, new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Null(await StoredAsync(Serial));
    }

    [Fact]
    public async Task Heartbeat_TooManyChecks_Is400()
    {
        var checks = Enumerable.Range(0, HeartbeatLimits.MaxChecks + 1).Select(i => new { name = $"c{i}", status = "ok" }).ToArray();
        var problem = await Expect(await BeatAsync(_certificate, JsonOf(new { serial = Serial, timestamp = "2026-11-25T09:00:00Z", checks })), HttpStatusCode.BadRequest);
        Assert.Contains("at most 256", problem.GetProperty("errors").GetProperty("checks")[0].GetString(), StringComparison.Ordinal);
        Assert.Null(await StoredAsync(Serial));
    }

    [Fact]
    public async Task Heartbeat_WithoutACertificate_Is401_WithAnotherMachinesCertificate_403_ForAMachineTheInventoryDoesNotKnow_403()
    {
        await Expect(await BeatAsync(null, JsonOf(Body(Serial))), HttpStatusCode.Unauthorized);
        using (var request = new HttpRequestMessage(HttpMethod.Post, AgentApi.HeartbeatPath) { Content = JsonOf(Body(Serial)) })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await AgentTokenAsync(Serial)); // tokens only enrol
            await Expect(await _anonymous.SendAsync(request), HttpStatusCode.Unauthorized);
        }

        using var other = await SignedForAsync("SN-OTHER");
        await Expect(await BeatAsync(_certificate, JsonOf(Body("SN-OTHER"))), HttpStatusCode.Forbidden);
        await Expect(await BeatAsync(other, JsonOf(Body(Serial))), HttpStatusCode.Forbidden);
        using var gone = await SignedForAsync("SN-GONE");
        await Expect(await BeatAsync(gone, JsonOf(Body("SN-GONE"))), HttpStatusCode.Forbidden);
        Assert.Null(await StoredAsync(Serial));
        Assert.Null(await StoredAsync("SN-GONE"));
    }

    [Fact]
    public async Task Host_ElectsAControllersLeader_AndRefusesBadHealthSettings()
    {
        var elector = _app.Services.GetRequiredService<LeaderElector>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!elector.IsLeader && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(elector.IsLeader);
        Assert.Equal(AgentsHostingExtensions.ControllersLeadership, elector.Name);
        var view = await Expect(await _admin.GetAsync($"/api/v1/machines/{Serial}/health"), HttpStatusCode.OK);
        Assert.Equal(elector.CandidateId, view.GetProperty("leader").GetString());

        var result = new HealthOptionsValidator().Validate(null, new HealthOptions { UnreachableAfterSeconds = 5, UnhealthyAfterSeconds = -1, StateSweepSeconds = 0, LeaderLeaseSeconds = 1 });
        Assert.Equal(4, result.Failures!.Count());
        Assert.True(new HealthOptionsValidator().Validate(null, new HealthOptions { UnreachableAfterSeconds = 10, StateSweepSeconds = 6 }).Failed);
        Assert.True(new HealthOptionsValidator().Validate(null, new HealthOptions()).Succeeded);
        Assert.Contains(BootServerSettings.All, s => s.Key == "unreachableAfterSeconds");
        Assert.Single(_app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), h => h is Quartz.QuartzHostedService); // one scheduler host for every job
    }
}

/// <summary>The state setter's Quartz sweep in a real host: a healthy machine that never heartbeats goes unreachable.</summary>
[Collection(EtcdCollection.Name)]
public sealed class StateSetterHostTests(EtcdFixture etcd)
{
    [Fact]
    public async Task QuartzSweep_OnTheLeader_MarksASilentMachineUnreachable_AsStateSetter()
    {
        await using var app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?>
        {
            ["leaderLeaseSeconds"] = "3",
            ["stateSweepSeconds"] = "1",
            ["unreachableAfterSeconds"] = "10",
        });
        using var admin = app.Client(await app.AdminTokenAsync());
        using var register = await admin.PostAsync("/api/v1/machines", new StringContent("{\"serial\":\"SN-0601\",\"macs\":[\"52:54:00:06:00:02\"]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        using var healthy = await admin.PutAsync("/api/v1/machines/SN-0601/state", new StringContent("{\"state\":\"healthy\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? state = null;
        while (DateTime.UtcNow < deadline)
        {
            state = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/machines/SN-0601")).RootElement.GetProperty("state").GetString();
            if (state == "unreachable")
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal("unreachable", state);
        var audit = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/audit?serial=SN-0601")).RootElement;
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == StateSetter.Actor);
    }
}
