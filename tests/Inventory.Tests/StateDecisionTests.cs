using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.Inventory.Tests;

/// <summary>The state setter's rules as a table: state × last heartbeat × failing runs × now → change or none.</summary>
public sealed class StateDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);
    private static readonly StateSetterSettings Settings = new() { UnreachableAfter = TimeSpan.FromSeconds(90), UnhealthyAfter = TimeSpan.FromSeconds(60) };

    /// <summary>A heartbeat <paramref name="ageSeconds"/> old; a critical check failing for <paramref name="failingSeconds"/> when given.</summary>
    private static MachineHealth? Health(int? ageSeconds, int? failingSeconds = null, CheckStatus failingStatus = CheckStatus.Critical, bool critical = true, DateTimeOffset? now = null)
    {
        if (ageSeconds is null)
        {
            return null;
        }

        var at = now ?? T0.AddHours(1);
        var checks = new List<CheckRecord> { new("fs.root", CheckStatus.Ok, null, true, null), new("temp", CheckStatus.Warning, "hot", true, null) };
        if (failingSeconds is { } f)
        {
            var record = new CheckRecord("disk.smart", failingStatus, "reallocated sectors", critical, null);
            checks.Add(record with { FailingSince = record.IsCriticalFailure ? at.AddSeconds(-f) : null });
        }

        return new MachineHealth { Serial = "SN-1", LastHeartbeatAt = at.AddSeconds(-ageSeconds.Value), Checks = checks };
    }

    public static TheoryData<string, MachineState, int?, int?, MachineState?> Rules => new()
    {
        // name, state, heartbeat age (null: never), critical failing for (null: none), expected
        { "fresh and passing stays healthy", MachineState.Healthy, 5, null, null },
        { "silent past the limit → unreachable", MachineState.Healthy, 90, null, MachineState.Unreachable },
        { "silent just under the limit: no change", MachineState.Healthy, 89, null, null },
        { "unhealthy and silent → unreachable", MachineState.Unhealthy, 300, 30, MachineState.Unreachable },
        { "uninitialized that reported once, silent → unreachable", MachineState.Uninitialized, 120, null, MachineState.Unreachable },
        { "uninitialized never heard from stays", MachineState.Uninitialized, null, null, null },
        { "healthy never heard from → unreachable", MachineState.Healthy, null, null, MachineState.Unreachable },
        { "critical failing within grace: no change", MachineState.Healthy, 5, 59, null },
        { "critical failing for the grace → unhealthy", MachineState.Healthy, 5, 60, MachineState.Unhealthy },
        { "still failing stays unhealthy", MachineState.Unhealthy, 5, 600, null },
        { "recovered → healthy", MachineState.Unhealthy, 5, null, MachineState.Healthy },
        { "unreachable heartbeats again, passing → healthy", MachineState.Unreachable, 3, null, MachineState.Healthy },
        { "unreachable heartbeats again, failing past grace → unhealthy", MachineState.Unreachable, 3, 61, MachineState.Unhealthy },
        { "unreachable heartbeats again, failing within grace: no change", MachineState.Unreachable, 3, 10, null },
        { "uninitialized reports passing → healthy", MachineState.Uninitialized, 5, null, MachineState.Healthy },
        { "uninitialized failing past grace → unhealthy", MachineState.Uninitialized, 5, 120, MachineState.Unhealthy },
        { "updating is not managed (silent)", MachineState.Updating, 900, null, null },
        { "updating is not managed (passing)", MachineState.Updating, 5, null, null },
        { "retiring is not managed", MachineState.Retiring, 900, 900, null },
        { "retired is not managed", MachineState.Retired, null, null, null },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Decide_FollowsTheRules(string name, MachineState state, int? ageSeconds, int? failingSeconds, MachineState? expected)
    {
        var now = T0.AddHours(1);
        var change = StateDecision.Decide(state, Health(ageSeconds, failingSeconds), now, observingSince: T0, Settings);
        Assert.True(expected == change?.To, $"{name}: expected {expected?.ToWire() ?? "no change"}, got {change?.To.ToWire() ?? "no change"} ({change?.Reason})");
        if (change is not null)
        {
            Assert.True(MachineStateTransitions.IsAllowed(state, change.To), name);
            Assert.False(string.IsNullOrWhiteSpace(change.Reason));
        }
    }

    [Theory]
    [InlineData(CheckStatus.Critical, true, MachineState.Unhealthy)]
    [InlineData(CheckStatus.Unknown, true, null)] // the agent could not tell: not a verdict
    [InlineData(CheckStatus.Warning, true, null)] // warning is not a failure
    [InlineData(CheckStatus.Critical, false, null)] // a non-critical check never makes a machine unhealthy
    public void Decide_OnlyCriticalChecksReportingCritical_MakeUnhealthy(CheckStatus status, bool critical, MachineState? expected)
    {
        var now = T0.AddHours(1);
        var change = StateDecision.Decide(MachineState.Healthy, Health(5, 120, status, critical), now, T0, Settings);
        Assert.Equal(expected, change?.To);
    }

    [Fact]
    public void Decide_NewLeaderAfterAnOutage_GivesEveryMachineTheFullTimeout()
    {
        // All boot servers were down for 10 minutes: every heartbeat is old, but the new term began just now.
        var now = T0.AddHours(1);
        var health = Health(600);
        Assert.Null(StateDecision.Decide(MachineState.Healthy, health, now, observingSince: now.AddSeconds(-30), Settings));
        Assert.Null(StateDecision.Decide(MachineState.Healthy, null, now, observingSince: now.AddSeconds(-30), Settings));
        Assert.Equal(MachineState.Unreachable, StateDecision.Decide(MachineState.Healthy, health, now, observingSince: now.AddSeconds(-90), Settings)?.To);
    }

    [Fact]
    public void Decide_ReasonNamesTheFailingCheckAndItsMessage()
    {
        var now = T0.AddHours(1);
        var change = StateDecision.Decide(MachineState.Healthy, Health(5, 75), now, T0, Settings)!;
        Assert.Contains("disk.smart critical for 75 s", change.Reason);
        Assert.Contains("reallocated sectors", change.Reason);
    }

    [Fact]
    public void CheckRecord_KeepsTheFailingRun_AndAPassEndsIt()
    {
        var t1 = T0;
        var t2 = T0.AddSeconds(10);
        var failing = new CheckResult("disk", CheckStatus.Critical, "bad", Critical: true);
        var first = CheckRecord.From(failing, null, t1);
        Assert.Equal(t1, first.FailingSince);
        var second = CheckRecord.From(failing with { Message = "worse" }, first, t2);
        Assert.Equal(t1, second.FailingSince); // still failing: the same run
        Assert.Null(CheckRecord.From(failing with { Status = CheckStatus.Unknown }, second, t2).FailingSince); // unknown is no verdict: the run ends
        var passed = CheckRecord.From(failing with { Status = CheckStatus.Ok }, second, t2);
        Assert.Null(passed.FailingSince);
        Assert.Equal(t2, CheckRecord.From(failing, passed, t2).FailingSince); // a new run
        Assert.Null(CheckRecord.From(failing with { Critical = false }, null, t2).FailingSince);
    }
}
