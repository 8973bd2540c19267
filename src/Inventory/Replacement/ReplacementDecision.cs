using System.Globalization;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.Inventory.Replacement;

/// <summary>One step the replacement controller is to take.</summary>
public abstract record ReplacementAction(string Failed);

/// <summary>Start replacing <paramref name="Failed"/>: record the replacement, mark it retiring, and wake <paramref name="Spare"/> if asleep.</summary>
public sealed record StartReplacement(string Failed, string Role, bool ControlPlane, string Reason, string Spare, bool SpareAsleep) : ReplacementAction(Failed);

/// <summary>The replacement exists but its failed machine is not retiring yet (a controller stopped between the two writes).</summary>
public sealed record RetireFailed(string Failed, string Reason) : ReplacementAction(Failed);

/// <summary>Choose <paramref name="Spare"/> for a replacement that has none (the previous one did not come up, or none was free).</summary>
public sealed record ChooseSpare(string Failed, string Spare, bool SpareAsleep) : ReplacementAction(Failed);

/// <summary>Send (again) a Wake-on-LAN magic packet to <paramref name="Spare"/>'s MAC.</summary>
public sealed record WakeSpare(string Failed, string Spare, string Mac) : ReplacementAction(Failed);

/// <summary><paramref name="Spare"/> did not come up (or is no longer a spare): forget it and look for another.</summary>
public sealed record GiveUpSpare(string Failed, string Spare, string Reason) : ReplacementAction(Failed);

/// <summary><paramref name="Spare"/> heartbeated: it takes the role (and is reinstalled for it); the failed machine is retired.</summary>
public sealed record TakeRole(string Failed, string Spare, string Role, DateTimeOffset HeartbeatAt) : ReplacementAction(Failed);

/// <summary>A completed replacement older than the retention is deleted (the audit log keeps its history).</summary>
public sealed record ForgetReplacement(string Failed) : ReplacementAction(Failed);

/// <summary>A failed machine that is due for replacement but held back, and why (a safety limit or no spare).</summary>
public sealed record HeldReplacement(string Failed, string Why);

public sealed record ReplacementPlan(IReadOnlyList<ReplacementAction> Actions, IReadOnlyList<HeldReplacement> Held);

/// <summary>
/// The replacement controller's rules as a pure function (no I/O, no clock), like <see cref="StateDecision"/>.
/// <list type="number">
/// <item>A machine with a role (not the spare role) that has been unhealthy or unreachable for
/// <see cref="ReplacementSettings.ReplaceAfter"/> is replaced when a spare is free and the limits allow: at most
/// <see cref="ReplacementSettings.MaxConcurrent"/> replacements in progress, never two of control-plane roles at once,
/// and not a machine that itself took its role by replacement less than <see cref="ReplacementSettings.Cooldown"/> ago
/// (a flapping replacement does not start a chain). Without a free spare nothing starts: the machine keeps its state.</item>
/// <item>A spare has the spare role, is healthy, unreachable or uninitialized (never unhealthy or taken by a person's
/// update or retirement), meets the role's <see cref="RoleConstraints"/>, and is either awake (healthy with a heartbeat
/// within <see cref="ReplacementSettings.AwakeWithin"/>) or has a Wake-on-LAN MAC. Awake spares first, then by serial.</item>
/// <item>While waiting, an asleep spare gets a magic packet every <see cref="ReplacementSettings.WakeInterval"/>; a spare
/// with no heartbeat after <see cref="ReplacementSettings.WakeTimeout"/> is given up on and another is chosen.</item>
/// <item>The first heartbeat the spare sends after it was chosen completes the replacement: the spare takes the role
/// (and is reinstalled for it), the failed machine goes from retiring to retired.</item>
/// </list>
/// Every step is idempotent, so a new leader continues where a deposed one stopped.
/// </summary>
public static class ReplacementDecision
{
    public static ReplacementPlan Decide(
        IReadOnlyCollection<Machine> machines,
        IReadOnlyDictionary<string, MachineHealth> health,
        IReadOnlyCollection<MachineReplacement> replacements,
        DateTimeOffset now,
        ReplacementSettings settings)
    {
        ArgumentNullException.ThrowIfNull(machines);
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(replacements);
        ArgumentNullException.ThrowIfNull(settings);
        var actions = new List<ReplacementAction>();
        var held = new List<HeldReplacement>();
        var bySerial = machines.ToDictionary(m => m.Serial, StringComparer.Ordinal);
        var active = replacements.Where(r => r.IsActive).OrderBy(r => r.StartedAt).ThenBy(r => r.Failed, StringComparer.Ordinal).ToList();
        var reserved = new HashSet<string>(active.Where(r => r.Spare is not null).Select(r => r.Spare!), StringComparer.Ordinal);
        var cooling = replacements
            .Where(r => r is { Phase: ReplacementPhase.Completed, Spare: not null, CompletedAt: { } done } && now - done < settings.Cooldown)
            .Select(r => r.Spare!)
            .ToHashSet(StringComparer.Ordinal);

        foreach (var r in replacements.Where(r => r is { IsActive: false, CompletedAt: { } done } && now - done >= settings.KeepCompleted))
        {
            actions.Add(new ForgetReplacement(r.Failed));
        }

        foreach (var r in active)
        {
            ContinueActive(r);
        }

        var activeCount = active.Count;
        var controlPlaneActive = active.Any(r => r.ControlPlane);
        var due = machines
            .Where(m => m.Role is { Length: > 0 } role && role != settings.SpareRole
                && m.State is MachineState.Unhealthy or MachineState.Unreachable
                && now - m.StateChangedAt >= settings.ReplaceAfter
                && !active.Any(r => r.Failed == m.Serial))
            .OrderBy(m => m.StateChangedAt).ThenBy(m => m.Serial, StringComparer.Ordinal);
        foreach (var m in due)
        {
            var controlPlane = settings.ControlPlaneRoles.Contains(m.Role!);
            if (cooling.Contains(m.Serial))
            {
                held.Add(new HeldReplacement(m.Serial, $"it took its role by replacement less than {Span(settings.Cooldown)} ago (cooldown)"));
                continue;
            }

            if (activeCount >= settings.MaxConcurrent)
            {
                held.Add(new HeldReplacement(m.Serial, $"{activeCount} replacement(s) in progress (limit {settings.MaxConcurrent})"));
                continue;
            }

            if (controlPlane && controlPlaneActive)
            {
                held.Add(new HeldReplacement(m.Serial, "a control-plane machine is already being replaced (one at a time)"));
                continue;
            }

            if (PickSpare(m.Role!, []) is not { } spare)
            {
                held.Add(new HeldReplacement(m.Serial, $"no free spare (role '{settings.SpareRole}') meets the constraints of role '{m.Role}'"));
                continue;
            }

            reserved.Add(spare.Machine.Serial);
            activeCount++;
            controlPlaneActive |= controlPlane;
            var reason = $"{m.State.ToWire()} for {Span(now - m.StateChangedAt)} (replace after {Span(settings.ReplaceAfter)})";
            actions.Add(new StartReplacement(m.Serial, m.Role!, controlPlane, reason, spare.Machine.Serial, spare.Asleep));
        }

        return new ReplacementPlan(actions, held);

        void ContinueActive(MachineReplacement r)
        {
            if (bySerial.TryGetValue(r.Failed, out var failed)
                && failed.State is not (MachineState.Retiring or MachineState.Retired)
                && MachineStateTransitions.IsAllowed(failed.State, MachineState.Retiring))
            {
                actions.Add(new RetireFailed(r.Failed, r.Reason));
            }

            if (r.Spare is null)
            {
                if (PickSpare(r.Role, r.GaveUpOn) is { } chosen)
                {
                    reserved.Add(chosen.Machine.Serial);
                    actions.Add(new ChooseSpare(r.Failed, chosen.Machine.Serial, chosen.Asleep));
                }
                else
                {
                    held.Add(new HeldReplacement(r.Failed, $"waiting for a free spare (role '{settings.SpareRole}') that meets the constraints of role '{r.Role}'"));
                }

                return;
            }

            if (!bySerial.TryGetValue(r.Spare, out var spare))
            {
                actions.Add(new GiveUpSpare(r.Failed, r.Spare, "the spare was deleted"));
                return;
            }

            if (spare.Role != settings.SpareRole && spare.Role != r.Role)
            {
                actions.Add(new GiveUpSpare(r.Failed, r.Spare, $"the spare's role was changed to '{spare.Role}'"));
                return;
            }

            if (health.GetValueOrDefault(r.Spare) is { } h && r.SpareChosenAt is { } chosenAt && h.LastHeartbeatAt > chosenAt)
            {
                actions.Add(new TakeRole(r.Failed, r.Spare, r.Role, h.LastHeartbeatAt));
                return;
            }

            if (r.SpareChosenAt is { } since && now - since >= settings.WakeTimeout)
            {
                actions.Add(new GiveUpSpare(r.Failed, r.Spare, $"no heartbeat {Span(now - since)} after it was chosen (wake timeout {Span(settings.WakeTimeout)})"));
                return;
            }

            if (r.SpareWasAsleep && spare.Power.WolMac is { } mac && (r.LastWakeAt is not { } last || now - last >= settings.WakeInterval))
            {
                actions.Add(new WakeSpare(r.Failed, r.Spare, mac));
            }
        }

        (Machine Machine, bool Asleep)? PickSpare(string role, IReadOnlyList<string> exclude)
        {
            var constraints = settings.Constraints.GetValueOrDefault(role);
            return machines
                .Where(m => m.Role == settings.SpareRole
                    && m.State is MachineState.Healthy or MachineState.Unreachable or MachineState.Uninitialized
                    && !reserved.Contains(m.Serial) && !exclude.Contains(m.Serial) && !cooling.Contains(m.Serial)
                    && Meets(m, constraints))
                .Select(m => (Machine: m, Asleep: !IsAwake(m)))
                .Where(c => !c.Asleep || c.Machine.Power.WolMac is not null)
                .OrderBy(c => c.Asleep).ThenBy(c => c.Machine.Serial, StringComparer.Ordinal)
                .Select(c => ((Machine, bool)?)c)
                .FirstOrDefault();
        }

        bool IsAwake(Machine m) =>
            m.State == MachineState.Healthy && health.GetValueOrDefault(m.Serial) is { } h && now - h.LastHeartbeatAt < settings.AwakeWithin;
    }

    /// <summary>Whether <paramref name="machine"/> has what <paramref name="constraints"/> demand (unknown facts do not meet a minimum).</summary>
    public static bool Meets(Machine machine, RoleConstraints? constraints)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (constraints is null)
        {
            return true;
        }

        if (constraints.MinMemoryBytes is { } memory && (machine.Hardware?.MemoryBytes ?? 0) < memory)
        {
            return false;
        }

        var cpu = machine.Hardware?.Cpu;
        if (constraints.MinCpuThreads is { } threads && (cpu?.Threads ?? cpu?.Cores ?? 0) < threads)
        {
            return false;
        }

        return constraints.Labels.All(l => machine.Labels.TryGetValue(l.Key, out var v) && v == l.Value);
    }

    private static string Span(TimeSpan t) =>
        t.TotalSeconds < 120
            ? Math.Round(t.TotalSeconds).ToString(CultureInfo.InvariantCulture) + " s"
            : Math.Round(t.TotalMinutes).ToString(CultureInfo.InvariantCulture) + " min";
}
