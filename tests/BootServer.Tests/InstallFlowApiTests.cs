using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.Inventory.Profiles;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// The install flow on one boot server (in process) and a real etcd: a known machine due for an install gets its
/// profile's install script, fetches its configuration, reports installed with the agent token of that configuration,
/// then gets the local-boot script and no configuration until a reinstall is requested. The VM version of this is
/// tests/EndToEnd.Tests/InstallFlowTests.cs.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed partial class InstallFlowApiTests(EtcdFixture etcd) : IAsyncLifetime
{
    private const string Serial = "SN-0100";
    private const string Mac = "52:54:00:12:01:00";
    private const string ScriptPath = "/boot/ipxe?serial=SN-0100&uuid=&mac=52-54-00-12-01-00";
    private BootServerApp _app = null!;
    private HttpClient _admin = null!;
    private HttpClient _anonymous = null!;

    [GeneratedRegex("nekkoboot_[A-Za-z0-9_-]+")]
    private static partial Regex TokenPattern();

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


    private async Task SetUpAsync(string? role = "worker", BootProfileSpec? profile = null)
    {
        var body = role is null ? (object)new { serial = Serial, macs = new[] { Mac } } : new { serial = Serial, macs = new[] { Mac }, role };
        await Expect(await _admin.PostAsJsonAsync("/api/v1/machines", body), HttpStatusCode.Created);
        var spec = JsonSerializer.Serialize(profile ?? ProfilesSamples.CloudInit(), InventoryJson.Options);
        await Expect(await _admin.PutAsync("/api/v1/profiles/worker", new StringContent(spec, Encoding.UTF8, "application/json")), HttpStatusCode.Created);
    }

    private async Task<HttpResponseMessage> ReportAsync(string serial, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/boot/config/{serial}/installed");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _anonymous.SendAsync(request);
    }

    private async Task<string> FetchTokenAsync() =>
        TokenPattern().Match(await _anonymous.GetStringAsync($"/boot/config/{Serial}/user-data")).Value;

    private async Task<string[]> AuditActionsAsync() =>
        (await Expect(await _admin.GetAsync("/api/v1/audit"), HttpStatusCode.OK)).EnumerateArray()
            .Select(e => e.GetProperty("action").GetString()!).Where(a => a.StartsWith("install.", StringComparison.Ordinal)).Reverse().ToArray();

    [Fact]
    public async Task DueMachine_BootsItsProfile_ReportsInstalled_ThenBootsLocally_UntilReinstall()
    {
        await SetUpAsync();

        var install = await _anonymous.GetStringAsync(ScriptPath);
        Assert.Contains("echo NekkoMetal: SN-0100 installs role worker from profile version 1", install, StringComparison.Ordinal);
        Assert.Contains(
            "kernel http://localhost/boot/assets/debian-vmlinuz initrd=debian-initrd.img console=ttyS0,115200 hostname=sn-0100 auto=true ds=nocloud;s=http://localhost/boot/config/SN-0100/\n",
            install, StringComparison.Ordinal);
        Assert.Contains("initrd --name debian-initrd.img http://localhost/boot/assets/debian-initrd.img\n", install, StringComparison.Ordinal);

        var token = await FetchTokenAsync();
        var status = await Expect(await _admin.GetAsync($"/api/v1/machines/{Serial}/install"), HttpStatusCode.OK);
        Assert.True(status.GetProperty("due").GetBoolean());
        Assert.Equal(1, status.GetProperty("record").GetProperty("profileVersion").GetInt64());

        var reported = await Expect(await ReportAsync(Serial, token), HttpStatusCode.OK);
        Assert.Equal(1, reported.GetProperty("profileVersion").GetInt64());
        Assert.Equal(JsonValueKind.String, reported.GetProperty("installedAt").ValueKind);
        await Expect(await ReportAsync(Serial, token), HttpStatusCode.OK); // again: nothing changes

        var local = await _anonymous.GetStringAsync(ScriptPath);
        Assert.Contains("SN-0100 boots from its local disk\nexit", local, StringComparison.Ordinal);
        var refused = await Expect(await _anonymous.GetAsync($"/boot/config/{Serial}/user-data"), HttpStatusCode.Conflict);
        Assert.Contains("nekkoctl machines reinstall SN-0100", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A new profile version does not reinstall an installed machine; a reinstall request does.
        var v2 = JsonSerializer.Serialize(ProfilesSamples.CloudInit() with { Cmdline = "quiet" }, InventoryJson.Options);
        await Expect(await _admin.PutAsync("/api/v1/profiles/worker", new StringContent(v2, Encoding.UTF8, "application/json")), HttpStatusCode.OK);
        Assert.Contains("exit", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);

        var after = await Expect(await _admin.PostAsync($"/api/v1/machines/{Serial}/reinstall", null), HttpStatusCode.OK);
        Assert.True(after.GetProperty("due").GetBoolean());
        Assert.Equal(2, after.GetProperty("profileVersion").GetInt64());
        Assert.False(after.GetProperty("record").TryGetProperty("installedAt", out _), after.ToString());
        Assert.Equal(JsonValueKind.String, after.GetProperty("record").GetProperty("reinstallRequestedAt").ValueKind);
        Assert.Contains("installs role worker from profile version 2", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);

        var token2 = await FetchTokenAsync();
        var second = await Expect(await ReportAsync(Serial, token2), HttpStatusCode.OK);
        Assert.Equal(2, second.GetProperty("profileVersion").GetInt64());
        var record = await _app.Services.GetRequiredService<ProfileRepository>().GetInstallAsync(Serial, default);
        Assert.Equal(2, record!.ProfileVersion);
        Assert.NotNull(record.InstalledAt);

        Assert.Equal(["install.config", "install.installed", "install.reinstall", "install.config", "install.installed"], await AuditActionsAsync());
    }

    [Fact]
    public async Task NekkoctlReinstall_ThroughTheRealApi_MakesTheMachineDueAgain()
    {
        await SetUpAsync();
        await Expect(await ReportAsync(Serial, await FetchTokenAsync()), HttpStatusCode.OK);
        Assert.Contains("exit", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);

        var reinstall = await _app.NekkoctlAsync("machines", "reinstall", Serial);
        Assert.True(reinstall.Code == 0, reinstall.Err);
        Assert.Equal("machine SN-0100 installs role worker (profile version 1) at its next network boot\n", reinstall.Out);
        Assert.Contains("installs role worker from profile version 1", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);

        var unknown = await _app.NekkoctlAsync("machines", "reinstall", "NO-SUCH");
        Assert.NotEqual(0, unknown.Code);
        Assert.Contains("machine 'NO-SUCH' was not found", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(["install.config", "install.installed", "install.reinstall"], await AuditActionsAsync());
    }

    [Fact]
    public async Task Report_WithoutToken_WithAnotherMachinesToken_OrBeforeAnyFetch_ChangesNothing()
    {
        await SetUpAsync();
        await Expect(await _admin.PostAsJsonAsync("/api/v1/machines", new { serial = "SN-0101", macs = new[] { "52:54:00:12:01:01" }, role = "worker" }), HttpStatusCode.Created);
        var other = TokenPattern().Match(await _anonymous.GetStringAsync("/boot/config/SN-0101/user-data")).Value;

        var none = await ReportAsync(Serial, null);
        await Expect(none, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        await Expect(await ReportAsync(Serial, "nekkoboot_not-a-real-token"), HttpStatusCode.Unauthorized);
        var discovery = await _app.Services.GetRequiredService<Inventory.Boot.BootstrapTokenRepository>()
            .IssueAsync(Inventory.Boot.BootstrapTokenRepository.Discovery, TimeSpan.FromMinutes(5), Mac, default);
        await Expect(await ReportAsync(Serial, discovery), HttpStatusCode.Unauthorized); // another purpose
        await Expect(await ReportAsync(Serial, other), HttpStatusCode.Forbidden);         // another machine's
        await Expect(await ReportAsync("NO-SUCH-SERIAL", other), HttpStatusCode.Forbidden);

        Assert.Null(await _app.Services.GetRequiredService<ProfileRepository>().GetInstallAsync(Serial, default));
        Assert.Contains("installs role worker", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);
        Assert.Equal(["install.config"], await AuditActionsAsync()); // SN-0101's fetch only
    }

    [Fact]
    public async Task Report_AfterTheRoleChanged_Is409_AndTheMachineInstallsItsNewRole()
    {
        await SetUpAsync();
        var token = await FetchTokenAsync();
        await Expect(await _admin.PatchAsJsonAsync($"/api/v1/machines/{Serial}", new { role = "storage" }), HttpStatusCode.OK);

        var problem = await Expect(await ReportAsync(Serial, token), HttpStatusCode.Conflict);
        Assert.Contains("has not fetched the configuration of its role 'storage'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null((await _app.Services.GetRequiredService<ProfileRepository>().GetInstallAsync(Serial, default))!.InstalledAt);
    }

    [Fact]
    public async Task MachineWithoutRole_OrRoleWithoutProfile_BootsLocally()
    {
        await SetUpAsync(role: null);
        Assert.Contains("boots from its local disk", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);
        await Expect(await _admin.PatchAsJsonAsync($"/api/v1/machines/{Serial}", new { role = "storage" }), HttpStatusCode.OK);
        Assert.Contains("boots from its local disk", await _anonymous.GetStringAsync(ScriptPath), StringComparison.Ordinal);
        var status = await Expect(await _admin.GetAsync($"/api/v1/machines/{Serial}/install"), HttpStatusCode.OK);
        Assert.False(status.GetProperty("due").GetBoolean());
    }

    [Fact]
    public async Task Reinstall_OfAnUnknownMachine_Is404_AndNeedsWriteRole()
    {
        await Expect(await _admin.PostAsync("/api/v1/machines/NO-SUCH/reinstall", null), HttpStatusCode.NotFound);
        var viewerToken = (await Expect(await _admin.PostAsJsonAsync("/api/v1/tokens", new { name = "watcher", role = "viewer" }), HttpStatusCode.Created))
            .GetProperty("token").GetString();
        using var viewer = _app.Client(viewerToken);
        await SetUpAsync();
        await Expect(await viewer.PostAsync($"/api/v1/machines/{Serial}/reinstall", null), HttpStatusCode.Forbidden);
        await Expect(await viewer.GetAsync($"/api/v1/machines/{Serial}/install"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ProfileWhoseCommandLineIpxeWouldRead_IsRefusedAtSave()
    {
        await Expect(await _admin.PostAsJsonAsync("/api/v1/machines", new { serial = Serial, macs = new[] { Mac }, role = "worker" }), HttpStatusCode.Created);
        var spec = JsonSerializer.Serialize(ProfilesSamples.CloudInit() with { Cmdline = "quiet || shell" }, InventoryJson.Options);
        var problem = await Expect(await _admin.PutAsync("/api/v1/profiles/worker", new StringContent(spec, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("cmdline", out _), problem.ToString());
    }
}
