using System.Globalization;
using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.Inventory.Health;

/// <summary>Timing of the state setter (bound from the boot server's options, validated there).</summary>
public sealed record StateSetterSettings
{
    /// <summary>No heartbeat for this long → unreachable.</summary>
    public TimeSpan UnreachableAfter { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>A critical check failing without a break for this long → unhealthy.</summary>
    public TimeSpan UnhealthyAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the leader sweeps.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A state the setter wants a machine in, and why (the audit entry's reason).</summary>
public sealed record StateChange(MachineState To, string Reason);

/// <summary>
/// The state setter's rules as a pure function (no I/O, no clock). Managed states: uninitialized, healthy, unhealthy,
/// unreachable — the ones sabakan-state-setter moves between. Updating, retiring and retired belong to people and other
/// controllers (an update or a retirement must not be undone by a heartbeat), so they are never touched. Every change
/// returned is allowed by <see cref="MachineStateTransitions"/>; no transition had to be added.
/// </summary>
public static class StateDecision
{
    public static bool IsManaged(MachineState state) =>
        state is MachineState.Uninitialized or MachineState.Healthy or MachineState.Unhealthy or MachineState.Unreachable;

    /// <summary>
    /// The change for a machine in <paramref name="state"/> with <paramref name="health"/> (null: never heard from) at
    /// <paramref name="now"/>, or null for none. <paramref name="observingSince"/> is when this leader's term began:
    /// silence is only counted from then, so a new leader after an outage of the boot servers (heartbeats had nowhere to
    /// go) gives every machine a full <see cref="StateSetterSettings.UnreachableAfter"/> before calling it unreachable.
    /// Rules, in order:
    /// <list type="number">
    /// <item>no heartbeat for UnreachableAfter (and none since the term began) → unreachable; a machine still uninitialized
    /// that never sent one stays uninitialized (it is not running an agent yet);</item>
    /// <item>a fresh heartbeat with a critical check failing (status critical) for UnhealthyAfter → unhealthy;</item>
    /// <item>a fresh heartbeat with a critical check failing for less → no change yet;</item>
    /// <item>a fresh heartbeat with no critical check failing (ok, warning or unknown) → healthy.</item>
    /// </list>
    /// </summary>
    public static StateChange? Decide(MachineState state, MachineHealth? health, DateTimeOffset now, DateTimeOffset observingSince, StateSetterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!IsManaged(state))
        {
            return null;
        }

        var change = DecideManaged(state, health, now, observingSince, settings);
        return change is null || change.To == state || !MachineStateTransitions.IsAllowed(state, change.To) ? null : change;
    }

    private static StateChange? DecideManaged(MachineState state, MachineHealth? health, DateTimeOffset now, DateTimeOffset observingSince, StateSetterSettings settings)
    {
        var silentSinceTerm = now - observingSince >= settings.UnreachableAfter;
        if (health is null)
        {
            return state == MachineState.Uninitialized || !silentSinceTerm
                ? null
                : new StateChange(MachineState.Unreachable, $"no heartbeat received (none since the state setter took over {Seconds(now - observingSince)} ago)");
        }

        var age = now - health.LastHeartbeatAt;
        if (age >= settings.UnreachableAfter)
        {
            return silentSinceTerm
                ? new StateChange(MachineState.Unreachable, $"no heartbeat for {Seconds(age)} (last at {health.LastHeartbeatAt:O}; limit {Seconds(settings.UnreachableAfter)})")
                : null;
        }

        var failing = health.Checks.Where(c => c.IsCriticalFailure).ToList();
        var overdue = failing.Where(c => now - (c.FailingSince ?? now) >= settings.UnhealthyAfter).ToList();
        if (overdue.Count > 0)
        {
            return new StateChange(MachineState.Unhealthy,
                $"critical check {string.Join(", ", overdue.Select(c => $"{c.Name} {Wire(c.Status)} for {Seconds(now - c.FailingSince!.Value)}"))} " +
                $"(grace {Seconds(settings.UnhealthyAfter)}){Message(overdue[0])}");
        }

        if (failing.Count > 0)
        {
            return null; // within its grace
        }

        return new StateChange(MachineState.Healthy, state == MachineState.Unreachable
            ? "heartbeats again, every critical check passing"
            : "every critical check passing");
    }

    private static string Wire(CheckStatus s) => s switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Warning => "warning",
        CheckStatus.Critical => "critical",
        _ => "unknown",
    };

    private static string Message(CheckRecord c) => string.IsNullOrEmpty(c.Message) ? "" : ": " + (c.Message.Length > 200 ? c.Message[..200] + "…" : c.Message);

    private static string Seconds(TimeSpan t) => Math.Round(t.TotalSeconds).ToString(CultureInfo.InvariantCulture) + " s";
}
