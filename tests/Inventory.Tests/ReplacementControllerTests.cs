using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Replacement;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>
/// The replacement controller against a real etcd with a fake clock (the election lease runs on etcd's real clock).
/// Wake-on-LAN is recorded in process here — the real UDP sender is tested by the boot server's tests and end to end
/// on nspawn nodes (tests/EndToEnd.Tests/Nodes/ReplacementOnNodesTests.cs).
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class ReplacementControllerTests(EtcdFixture etcd) : IAsyncLifetime
{
    private static readonly ReplacementSettings Settings = new()
    {
        ReplaceAfter = TimeSpan.FromMinutes(5),
        WakeInterval = TimeSpan.FromSeconds(30),
        WakeTimeout = TimeSpan.FromMinutes(10),
        AwakeWithin = TimeSpan.FromSeconds(90),
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));
    private readonly ControllerElectors _electors = new();
    private readonly RecordingWake _wake = new();
    private InventoryHarness _inv = null!;
    private HealthRepository _health = null!;
    private ReplacementRepository _records = null!;

    public async Task InitializeAsync()
    {
        _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix(), _time);
        var ctx = _inv.Services.GetRequiredService<InventoryContext>();
        _health = new HealthRepository(ctx);
        _records = new ReplacementRepository(ctx);
    }

    public async Task DisposeAsync()
    {
        await _electors.DisposeAsync();
        await _inv.DisposeAsync();
    }

    private async Task<ReplacementController> StartControllerAsync(string id, bool waitForLeadership = true)
    {
        var elector = await _electors.StartAsync(_inv.Store, id, waitForLeadership);

        return new ReplacementController(_inv.Machines, _health, _records, _inv.Services.GetRequiredService<InventoryContext>(), elector, Settings, _wake,
            NullLogger<ReplacementController>.Instance);
    }

    private async Task Machine(string serial, string role, MachineState state, string mac)
    {
        await _inv.Machines.RegisterAsync(new MachineSpec { Serial = serial, Macs = [mac], Role = role, Power = new PowerInfo { WolMac = mac } }, "admin", default);
        if (state != MachineState.Uninitialized)
        {
            await _inv.Machines.SetStateAsync(serial, state, "test", "admin", default);
        }
    }

    private Task<MachineHealth> Beat(string serial) =>
        _health.RecordAsync(new Heartbeat(serial, _time.GetUtcNow(), [new CheckResult("fs.root", CheckStatus.Ok, null, Critical: true)]), "server-a", default);

    private async Task<Machine> Get(string serial) => await _inv.Machines.GetAsync(serial, default);

    [Fact]
    public async Task A_failed_worker_is_retired_an_asleep_spare_woken_until_it_heartbeats_then_it_carries_the_role()
    {
        var controller = await StartControllerAsync("server-a");
        await Machine("W1", "worker", MachineState.Healthy, "52:54:00:cc:00:01");
        await Machine("S1", "spare", MachineState.Uninitialized, "52:54:00:cc:00:02");
        await _inv.Machines.SetStateAsync("W1", MachineState.Unreachable, "no heartbeat", "state-setter", default);

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await controller.SweepAsync(default)); // within the grace
        Assert.Null(await _records.GetAsync("W1", default));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await controller.SweepAsync(default));
        Assert.Equal(MachineState.Retiring, (await Get("W1")).State);
        var record = await _records.GetAsync("W1", default);
        Assert.NotNull(record);
        Assert.Equal(("worker", "S1", true, 1), (record.Role, record.Spare, record.SpareWasAsleep, record.WakePackets));
        Assert.Equal([("S1", "52:54:00:cc:00:02")], _wake.Sent);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await controller.SweepAsync(default)); // not again before the interval
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, await controller.SweepAsync(default));
        Assert.Equal(2, _wake.Sent.Count);

        _time.Advance(TimeSpan.FromSeconds(5));
        await Beat("S1");
        Assert.Equal(1, await controller.SweepAsync(default));
        var spare = await Get("S1");
        Assert.Equal("worker", spare.Role);
        Assert.Equal(MachineState.Retired, (await Get("W1")).State);
        record = await _records.GetAsync("W1", default);
        Assert.Equal(ReplacementPhase.Completed, record!.Phase);
        Assert.Equal(_time.GetUtcNow(), record.CompletedAt);

        Assert.Equal(0, await controller.SweepAsync(default)); // converged
        Assert.Equal(2, _wake.Sent.Count);

        // The spare's agent is asked to reboot (into its new role's install): handed out with the next heartbeat, once.
        Assert.Equal(AgentAction.Reboot, (await _health.GetAsync("S1", default))!.PendingAction!.Action);
        Assert.Equal(AgentAction.Reboot, (await Beat("S1")).PendingAction!.Action);
        Assert.Null((await Beat("S1")).PendingAction);
        Assert.Null((await _health.GetAsync("S1", default))!.PendingAction);

        var audit = await _inv.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery { Serial = "W1" }, default);
        var mine = audit.Where(e => e.Actor == ReplacementController.Actor).Select(e => e.Action).Order(StringComparer.Ordinal).ToList();
        string[] expected = [AuditActions.ReplacementStart, AuditActions.MachineState, AuditActions.ReplacementWake, AuditActions.ReplacementWake,
            AuditActions.MachineState, AuditActions.ReplacementComplete]; // entries of one fake-clock instant sort by random id: compare as a set
        Assert.Equal(expected.Order(StringComparer.Ordinal), mine);
        var spareAudit = await _inv.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery { Serial = "S1" }, default);
        Assert.Contains(spareAudit, e => e.Actor == ReplacementController.Actor && e.Action == AuditActions.MachineUpdate && e.Reason!.Contains("W1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_awake_spare_gets_no_packet_and_takes_the_role_at_its_next_heartbeat()
    {
        var controller = await StartControllerAsync("server-a");
        await Machine("W2", "worker", MachineState.Healthy, "52:54:00:cc:01:01");
        await Machine("S2", "spare", MachineState.Healthy, "52:54:00:cc:01:02");
        await Beat("S2");
        await _inv.Machines.SetStateAsync("W2", MachineState.Unhealthy, "disk", "state-setter", default);
        _time.Advance(TimeSpan.FromMinutes(5));
        await Beat("S2");

        Assert.Equal(1, await controller.SweepAsync(default));
        Assert.Empty(_wake.Sent);
        Assert.Equal("spare", (await Get("S2")).Role);

        _time.Advance(TimeSpan.FromSeconds(10));
        await Beat("S2");
        Assert.Equal(1, await controller.SweepAsync(default));
        Assert.Equal("worker", (await Get("S2")).Role);
        Assert.Equal(MachineState.Retired, (await Get("W2")).State);
    }

    [Fact]
    public async Task An_action_needs_an_agent_that_heartbeats_and_is_audited()
    {
        await Machine("A1", "worker", MachineState.Healthy, "52:54:00:cc:04:01");
        await Assert.ThrowsAsync<ConflictException>(() => _health.RequestActionAsync("A1", AgentAction.PowerOff, null, "admin", null, default));
        await Assert.ThrowsAsync<NotFoundException>(() => _health.RequestActionAsync("NOPE", AgentAction.Reboot, null, "admin", null, default));
        Assert.Null((await _health.GetAsync("A1", default))?.PendingAction);

        await Beat("A1");
        var pending = await _health.RequestActionAsync("A1", AgentAction.PowerOff, "sleep until needed", "alice", null, default);
        Assert.Equal((AgentAction.PowerOff, "alice"), (pending.Action, pending.RequestedBy));
        var audit = await _inv.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery { Serial = "A1" }, default);
        Assert.Contains(audit, e => e.Action == AuditActions.MachineAction && e.Actor == "alice" && e.Reason == "sleep until needed");
        Assert.Equal(AgentAction.PowerOff, (await Beat("A1")).PendingAction!.Action);
        Assert.Null((await Beat("A1")).PendingAction);
    }

    [Fact]
    public async Task A_follower_changes_nothing()
    {
        await StartControllerAsync("server-a");
        var follower = await StartControllerAsync("server-b", waitForLeadership: false);
        await Machine("W3", "worker", MachineState.Healthy, "52:54:00:cc:02:01");
        await Machine("S3", "spare", MachineState.Uninitialized, "52:54:00:cc:02:02");
        await _inv.Machines.SetStateAsync("W3", MachineState.Unreachable, "no heartbeat", "state-setter", default);
        _time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(0, await follower.SweepAsync(default));
        Assert.Equal(MachineState.Unreachable, (await Get("W3")).State);
        Assert.Null(await _records.GetAsync("W3", default));
        Assert.Empty(_wake.Sent);
    }

    [Fact]
    public async Task Without_a_spare_nothing_changes_and_the_reason_is_kept()
    {
        var controller = await StartControllerAsync("server-a");
        await Machine("W4", "worker", MachineState.Healthy, "52:54:00:cc:03:01");
        await _inv.Machines.SetStateAsync("W4", MachineState.Unhealthy, "disk", "state-setter", default);
        _time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(0, await controller.SweepAsync(default));
        Assert.Equal(MachineState.Unhealthy, (await Get("W4")).State);
        Assert.Contains("no free spare", Assert.Single(controller.LastHeld).Why, StringComparison.Ordinal);
    }

    private sealed class RecordingWake : IWakeOnLan
    {
        public List<(string Serial, string Mac)> Sent { get; } = [];

        public Task<string> WakeAsync(Machine machine, string mac, CancellationToken ct)
        {
            Sent.Add((machine.Serial, mac));
            return Task.FromResult("255.255.255.255:9 (recorded)");
        }
    }
}
