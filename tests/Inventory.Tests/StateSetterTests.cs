using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>
/// The state setter against a real etcd with a fake clock for heartbeats and decisions (the election lease runs on
/// etcd's real clock): silence → unreachable after the timeout, a failing critical check → unhealthy after the grace,
/// recovery → healthy, every change audited as "state-setter"; a non-leader changes nothing.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class StateSetterTests(EtcdFixture etcd) : IAsyncLifetime
{
    private static readonly StateSetterSettings Settings = new() { UnreachableAfter = TimeSpan.FromSeconds(90), UnhealthyAfter = TimeSpan.FromSeconds(60) };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));
    private readonly ControllerElectors _electors = new();
    private InventoryHarness _inv = null!;
    private HealthRepository _health = null!;

    public async Task InitializeAsync()
    {
        _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix(), _time);
        _health = new HealthRepository(_inv.Services.GetRequiredService<InventoryContext>());
    }

    public async Task DisposeAsync()
    {
        await _electors.DisposeAsync();
        await _inv.DisposeAsync();
    }

    private async Task<(StateSetter Setter, LeaderElector Elector)> StartSetterAsync(string id, bool waitForLeadership = true)
    {
        var elector = await _electors.StartAsync(_inv.Store, id, waitForLeadership);

        var setter = new StateSetter(_inv.Machines, _health, _inv.Services.GetRequiredService<InventoryContext>(), elector, Settings, NullLogger<StateSetter>.Instance);
        return (setter, elector);
    }

    private async Task<Machine> HealthyMachineAsync(string serial, string mac)
    {
        await _inv.Machines.RegisterAsync(new MachineSpec { Serial = serial, Macs = [mac] }, "admin", default);
        return await _inv.Machines.SetStateAsync(serial, MachineState.Healthy, "provisioned", "admin", default);
    }

    private Task<MachineHealth> Beat(string serial, CheckStatus disk = CheckStatus.Ok) =>
        _health.RecordAsync(new Heartbeat(serial, _time.GetUtcNow(),
            [new CheckResult("fs.root", CheckStatus.Ok, null, Critical: true), new CheckResult("disk.smart", disk, disk == CheckStatus.Ok ? null : "reallocated sectors", Critical: true)]),
            "server-a", default);

    private async Task<MachineState> StateAsync(string serial) => (await _inv.Machines.GetAsync(serial, default)).State;

    [Fact]
    public async Task HeartbeatStops_Unreachable_AfterTheTimeout_AndBackToHealthy_WhenItReturns()
    {
        var (setter, _) = await StartSetterAsync("server-a");
        await HealthyMachineAsync("SN-1", "52:54:00:bb:00:01");
        await setter.SweepAsync(default); // the term begins now
        await Beat("SN-1");

        for (var s = 10; s < 90; s += 10)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal(0, await setter.SweepAsync(default));
            Assert.Equal(MachineState.Healthy, await StateAsync("SN-1"));
        }

        _time.Advance(TimeSpan.FromSeconds(10)); // 90 s since the last heartbeat
        Assert.Equal(1, await setter.SweepAsync(default));
        Assert.Equal(MachineState.Unreachable, await StateAsync("SN-1"));

        _time.Advance(TimeSpan.FromSeconds(30));
        await Beat("SN-1");
        Assert.Equal(1, await setter.SweepAsync(default));
        Assert.Equal(MachineState.Healthy, await StateAsync("SN-1"));

        var audit = await _inv.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery { Serial = "SN-1" }, default);
        var bySetter = audit.Where(e => e.Actor == StateSetter.Actor).ToList();
        Assert.Equal(2, bySetter.Count);
        Assert.All(bySetter, e => Assert.Equal(AuditActions.MachineState, e.Action));
        Assert.Contains(bySetter, e => e.Reason!.Contains("no heartbeat for 90 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CriticalCheckFailing_Unhealthy_AfterTheGrace_AndRecovery_Healthy()
    {
        var (setter, _) = await StartSetterAsync("server-a");
        await HealthyMachineAsync("SN-2", "52:54:00:bb:00:02");
        await setter.SweepAsync(default);

        await Beat("SN-2", CheckStatus.Critical);
        for (var s = 0; s < 50; s += 10)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            await Beat("SN-2", CheckStatus.Critical);
            Assert.Equal(0, await setter.SweepAsync(default));
        }

        Assert.Equal(MachineState.Healthy, await StateAsync("SN-2")); // 50 s failing: within the grace
        _time.Advance(TimeSpan.FromSeconds(10));
        await Beat("SN-2", CheckStatus.Critical); // 60 s without a break
        Assert.Equal(1, await setter.SweepAsync(default));
        Assert.Equal(MachineState.Unhealthy, await StateAsync("SN-2"));

        _time.Advance(TimeSpan.FromSeconds(10));
        await Beat("SN-2", CheckStatus.Warning); // warning is a pass
        Assert.Equal(1, await setter.SweepAsync(default));
        Assert.Equal(MachineState.Healthy, await StateAsync("SN-2"));

        var health = await _health.GetAsync("SN-2", default);
        Assert.All(health!.Checks, c => Assert.Null(c.FailingSince));
    }

    [Fact]
    public async Task ANonLeader_ChangesNothing_AndTheLeaderDoes()
    {
        var (leaderSetter, leader) = await StartSetterAsync("server-a");
        var (followerSetter, follower) = await StartSetterAsync("server-b", waitForLeadership: false);
        Assert.True(leader.IsLeader);
        Assert.False(follower.IsLeader);
        await HealthyMachineAsync("SN-3", "52:54:00:bb:00:03");
        await Beat("SN-3");
        await leaderSetter.SweepAsync(default);
        await followerSetter.SweepAsync(default);

        _time.Advance(TimeSpan.FromSeconds(200));
        Assert.Equal(0, await followerSetter.SweepAsync(default));
        Assert.Equal(MachineState.Healthy, await StateAsync("SN-3"));
        Assert.Equal(1, await leaderSetter.SweepAsync(default));
        Assert.Equal(MachineState.Unreachable, await StateAsync("SN-3"));
    }

    [Fact]
    public async Task MachinesTheSetterDoesNotManage_AreLeftAlone()
    {
        var (setter, _) = await StartSetterAsync("server-a");
        await HealthyMachineAsync("SN-4", "52:54:00:bb:00:04");
        await _inv.Machines.SetStateAsync("SN-4", MachineState.Retiring, "replaced", "admin", default);
        await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "SN-5", Macs = ["52:54:00:bb:00:05"] }, "admin", default); // uninitialized, no agent yet
        await setter.SweepAsync(default);
        _time.Advance(TimeSpan.FromSeconds(600));
        Assert.Equal(0, await setter.SweepAsync(default));
        Assert.Equal(MachineState.Retiring, await StateAsync("SN-4"));
        Assert.Equal(MachineState.Uninitialized, await StateAsync("SN-5"));
    }

    [Fact]
    public async Task Heartbeat_BadBody_OrUnknownSerial_ChangesNothing()
    {
        await HealthyMachineAsync("SN-6", "52:54:00:bb:00:06");
        var bad = new Heartbeat("SN-6", _time.GetUtcNow(), [new CheckResult("a b", CheckStatus.Ok), new CheckResult("x", (CheckStatus)42), new CheckResult("x", CheckStatus.Ok, new string('m', 2000))]);
        var e = await Assert.ThrowsAsync<ValidationException>(() => _health.RecordAsync(bad, null, default));
        Assert.Contains("checks[0].name", e.Errors.Keys);
        Assert.Contains("checks[1].status", e.Errors.Keys);
        Assert.Contains("checks[2].name", e.Errors.Keys); // twice
        Assert.Contains("checks[2].message", e.Errors.Keys);
        await Assert.ThrowsAsync<NotFoundException>(() => _health.RecordAsync(new Heartbeat("SN-NOPE", _time.GetUtcNow(), []), null, default));
        Assert.Null(await _health.GetAsync("SN-6", default));
        Assert.Null(await _health.GetAsync("SN-NOPE", default));
    }
}
