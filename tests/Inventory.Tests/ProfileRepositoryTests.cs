using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Boot profiles and install records against a real etcd, each test under its own key prefix.</summary>
[Collection(EtcdCollection.Name)]
public sealed class ProfileRepositoryTests(EtcdFixture etcd) : IAsyncLifetime
{
    private InventoryHarness _inv = null!;
    private ProfileRepository _profiles = null!;

    public async Task InitializeAsync()
    {
        _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());
        _profiles = new ProfileRepository(_inv.Services.GetRequiredService<InventoryContext>(), new ProfileRenderer(TimeProvider.System), NullLogger<ProfileRepository>.Instance);
    }

    public async Task DisposeAsync() => await _inv.DisposeAsync();

    private async Task<IReadOnlyList<AuditEntry>> AuditAsync() =>
        await _inv.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery { Limit = 100 }, default);

    [Fact]
    public async Task EverySave_IncrementsTheVersion_AndIsAudited()
    {
        var (v1, created) = await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        Assert.True(created);
        Assert.Equal(1, v1.Version);
        Assert.Equal("admin", v1.UpdatedBy);

        var (v2, created2) = await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(cmdline: "console=tty0"), "admin", default);
        Assert.False(created2);
        Assert.Equal(2, v2.Version);

        var (v3, _) = await _profiles.PutAsync("worker", ProfileRendererTests.IgnitionSpec(), "ops", default);
        Assert.Equal(3, v3.Version);
        Assert.Equal(ConfigTemplate.IgnitionKind, (await _profiles.GetAsync("worker", default)).Config.Kind);

        var actions = (await AuditAsync()).Select(e => e.Action).Where(a => a.StartsWith("profile.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["profile.update", "profile.update", "profile.create"], actions); // newest first
    }

    [Fact]
    public async Task UnchangedSave_WritesNothing_AndKeepsTheVersion()
    {
        await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        var (again, created) = await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        Assert.False(created);
        Assert.Equal(1, again.Version);
        Assert.Single(await AuditAsync(), e => e.Action.StartsWith("profile.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveWithStaleVersion_IsConflict()
    {
        await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(cmdline: "quiet") with { Version = 1 }, "admin", default);
        var e = await Assert.ThrowsAsync<ConflictException>(() =>
            _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(cmdline: "loud") with { Version = 1 }, "admin", default));
        Assert.Contains("version 2", e.Message, StringComparison.Ordinal);
        Assert.Equal("quiet", (await _profiles.GetAsync("worker", default)).Cmdline);
    }

    [Fact]
    public async Task BadTemplate_SavesNothing()
    {
        await Assert.ThrowsAsync<ValidationException>(() =>
            _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(userData: "#cloud-config\nx: {{ nope }}"), "admin", default));
        await Assert.ThrowsAsync<NotFoundException>(() => _profiles.GetAsync("worker", default));
        Assert.Empty(await _profiles.ListAsync(default));
        Assert.DoesNotContain(await AuditAsync(), e => e.Action.StartsWith("profile.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListAndDelete()
    {
        await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        await _profiles.PutAsync("control-plane", ProfileRendererTests.IgnitionSpec(), "admin", default);
        Assert.Equal(["control-plane", "worker"], (await _profiles.ListAsync(default)).Select(p => p.Role));

        await _profiles.DeleteAsync("worker", "admin", default);
        Assert.Null(await _profiles.FindAsync("worker", default));
        await Assert.ThrowsAsync<NotFoundException>(() => _profiles.DeleteAsync("worker", "admin", default));
        Assert.Equal(["control-plane"], (await _profiles.ListAsync(default)).Select(p => p.Role));
    }

    [Fact]
    public async Task InstallRecord_KeepsTheVersionTheMachineFetched()
    {
        var machine = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "SN-1", Macs = ["52:54:00:00:00:11"], Role = "worker" }, "admin", default);
        var (v1, _) = await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(), "admin", default);
        Assert.Null(await _profiles.GetInstallAsync("SN-1", default));

        var first = await _profiles.RecordConfigFetchAsync(machine, v1, "machine:SN-1", default);
        var again = await _profiles.RecordConfigFetchAsync(machine, v1, "machine:SN-1", default);
        Assert.Equal(1, first.ProfileVersion);
        Assert.Equal(first.Revision, again.Revision); // same version: not rewritten

        var (v2, _) = await _profiles.PutAsync("worker", ProfileRendererTests.CloudInitSpec(cmdline: "quiet"), "admin", default);
        await _profiles.RecordConfigFetchAsync(machine, v2, "machine:SN-1", default);
        var stored = await _profiles.GetInstallAsync("SN-1", default);
        Assert.Equal(2, stored!.ProfileVersion);
        Assert.Equal("worker", stored.Role);
        Assert.Equal(2, (await AuditAsync()).Count(e => e.Action == ProfileRepository.ActionInstallConfig && e.Serial == "SN-1"));
    }
}
