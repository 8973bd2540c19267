using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Replacement;

/// <summary>Sends a Wake-on-LAN magic packet for a machine; returns where it went (for the record and the audit log).</summary>
public interface IWakeOnLan
{
    Task<string> WakeAsync(Machine machine, string mac, CancellationToken ct);
}

/// <summary>
/// Replaces failed machines by spares (issue 6), on the leading boot server only: each sweep reads machines (cache),
/// heartbeats and replacements (etcd), asks <see cref="ReplacementDecision"/> and carries out its steps with the
/// leadership fence on every write (machines' state and role through <see cref="MachineRepository"/>, replacement
/// records through <see cref="ReplacementRepository"/>), all audited with actor <see cref="Actor"/>. A spare taking a
/// role is due for an install of that role's profile at its next network boot (its install record is for another
/// role); with <see cref="ReplacementSettings.RebootSpare"/> its agent is asked to reboot at once.
/// </summary>
public sealed partial class ReplacementController(
    MachineRepository machines,
    HealthRepository health,
    ReplacementRepository replacements,
    InventoryContext ctx,
    ILeadership leadership,
    ReplacementSettings settings,
    IWakeOnLan wakeOnLan,
    ILogger<ReplacementController> logger) : ILeaderSweep
{
    public const string Actor = "replacement-controller";

    private readonly ILogger<ReplacementController> _logger = logger;
    private readonly Dictionary<string, string> _heldLogged = new(StringComparer.Ordinal);

    public ReplacementSettings Settings => settings;

    /// <summary>What the last sweep held back and why (failed serial → reason), for the API.</summary>
    public IReadOnlyList<HeldReplacement> LastHeld { get; private set; } = [];

    /// <summary>One sweep; returns the number of steps taken (0 when not the leader or turned off).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        if (!settings.Enabled || leadership.Fence is not { } fence)
        {
            return 0;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, leadership.LeadershipToken);
        var token = linked.Token;
        await ctx.EnsureReadyAsync(token);
        var records = (await replacements.ListAsync(token)).ToDictionary(r => r.Failed, StringComparer.Ordinal);
        var beats = await health.ListAsync(token);
        var plan = ReplacementDecision.Decide([.. ctx.Cache.Machines], beats, records.Values, ctx.Time.GetUtcNow(), settings);
        NoteHeld(plan.Held);
        var steps = 0;
        foreach (var action in plan.Actions)
        {
            try
            {
                await ApplyAsync(action, records.GetValueOrDefault(action.Failed), fence, token);
                steps++;
            }
            catch (NotLeaderException e)
            {
                LogDeposed(e.Message);
                return steps;
            }
            catch (InventoryException e) when (e is ConflictException or ForbiddenTransitionException or NotFoundException or ValidationException)
            {
                // changed since it was read: the next sweep decides again on fresh data
                LogStepFailed(action.GetType().Name, action.Failed, e.Message);
            }
        }

        return steps;
    }

    private async Task ApplyAsync(ReplacementAction action, MachineReplacement? record, LeaderFence fence, CancellationToken ct)
    {
        var now = ctx.Time.GetUtcNow();
        switch (action)
        {
            case StartReplacement s:
                {
                    var started = await replacements.WriteAsync(record, new MachineReplacement
                    {
                        Failed = s.Failed,
                        Role = s.Role,
                        ControlPlane = s.ControlPlane,
                        Reason = s.Reason,
                        StartedAt = now,
                        Spare = s.Spare,
                        SpareChosenAt = now,
                        SpareWasAsleep = s.SpareAsleep,
                    }, Actor, AuditActions.ReplacementStart, $"{s.Reason}; spare {s.Spare}{(s.SpareAsleep ? " (asleep: Wake-on-LAN)" : " (awake)")}", fence, ct);
                    LogStarted(s.Failed, s.Role, s.Reason, s.Spare, s.SpareAsleep ? "asleep" : "awake");
                    await machines.SetStateAsync(s.Failed, MachineState.Retiring, $"replaced by spare {s.Spare}: {s.Reason}", Actor, fence, ct);
                    if (s.SpareAsleep)
                    {
                        await WakeAsync(started, fence, ct);
                    }

                    break;
                }

            case RetireFailed r:
                await machines.SetStateAsync(r.Failed, MachineState.Retiring, $"being replaced: {r.Reason}", Actor, fence, ct);
                break;

            case ChooseSpare c:
                {
                    var chosen = await replacements.WriteAsync(record, Required(record, c) with
                    {
                        Spare = c.Spare,
                        SpareChosenAt = now,
                        SpareWasAsleep = c.SpareAsleep,
                        LastWakeAt = null,
                        WakePackets = 0,
                        WakeTarget = null,
                    }, Actor, AuditActions.ReplacementSpare, $"spare {c.Spare}{(c.SpareAsleep ? " (asleep: Wake-on-LAN)" : " (awake)")}", fence, ct);
                    LogSpareChosen(c.Failed, c.Spare);
                    if (c.SpareAsleep)
                    {
                        await WakeAsync(chosen, fence, ct);
                    }

                    break;
                }

            case WakeSpare:
                await WakeAsync(Required(record, action), fence, ct);
                break;

            case GiveUpSpare g:
                await replacements.WriteAsync(record, Required(record, g) with
                {
                    Spare = null,
                    SpareChosenAt = null,
                    GaveUpOn = [.. Required(record, g).GaveUpOn, g.Spare],
                }, Actor, AuditActions.ReplacementGiveUp, $"spare {g.Spare}: {g.Reason}", fence, ct);
                LogGaveUp(g.Failed, g.Spare, g.Reason);
                break;

            case TakeRole t:
                {
                    var current = Required(record, t);
                    var reason = $"takes role '{t.Role}' of failed machine {t.Failed} (heartbeat at {t.HeartbeatAt:O})";
                    await machines.UpdateAsync(t.Spare, new MachinePatch { Role = t.Role }, Actor, reason, fence, ct);
                    if (settings.RebootSpare)
                    {
                        await health.RequestActionAsync(t.Spare, AgentAction.Reboot, $"took role '{t.Role}': reboot to install its profile", Actor, fence, ct);
                    }
                    if (ctx.Cache.GetMachine(t.Failed) is { State: MachineState.Retiring })
                    {
                        await machines.SetStateAsync(t.Failed, MachineState.Retired, $"replaced: spare {t.Spare} carries role '{t.Role}'", Actor, fence, ct);
                    }

                    await replacements.WriteAsync(current, current with
                    {
                        Phase = ReplacementPhase.Completed,
                        SpareHeartbeatAt = t.HeartbeatAt,
                        CompletedAt = now,
                    }, Actor, AuditActions.ReplacementComplete, reason, fence, ct);
                    LogCompleted(t.Failed, t.Spare, t.Role, (now - current.StartedAt).TotalSeconds);
                    break;
                }

            case ForgetReplacement:
                await replacements.DeleteAsync(Required(record, action), Actor, fence, ct);
                break;

            default:
                throw new InvalidOperationException($"unknown replacement action {action.GetType().Name}");
        }
    }

    private async Task WakeAsync(MachineReplacement record, LeaderFence fence, CancellationToken ct)
    {
        if (record.Spare is not { } serial || ctx.Cache.GetMachine(serial) is not { Power.WolMac: { } mac } spare)
        {
            return;
        }

        string target;
        try
        {
            target = await wakeOnLan.WakeAsync(spare, mac, ct);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            LogWakeFailed(serial, mac, e.Message);
            return; // tried again after the wake interval
        }

        await replacements.WriteAsync(record, record with
        {
            LastWakeAt = ctx.Time.GetUtcNow(),
            WakePackets = record.WakePackets + 1,
            WakeTarget = target,
        }, Actor, AuditActions.ReplacementWake, $"Wake-on-LAN magic packet #{record.WakePackets + 1} for {serial} ({mac}) to {target}", fence, ct);
        LogWoken(serial, mac, target, record.WakePackets + 1);
    }

    private static MachineReplacement Required(MachineReplacement? record, ReplacementAction action) =>
        record ?? throw new ConflictException($"the replacement of machine '{action.Failed}' vanished");

    private void NoteHeld(IReadOnlyList<HeldReplacement> held)
    {
        LastHeld = held;
        foreach (var h in held)
        {
            if (!_heldLogged.TryGetValue(h.Failed, out var why) || why != h.Why)
            {
                _heldLogged[h.Failed] = h.Why;
                LogHeld(h.Failed, h.Why);
            }
        }

        foreach (var gone in _heldLogged.Keys.Where(k => !held.Any(h => h.Failed == k)).ToList())
        {
            _heldLogged.Remove(gone);
        }
    }

    [LoggerMessage(EventIds.ReplacementStarted, LogLevel.Warning, "Replacing machine {Serial} (role {Role}, {Reason}) by spare {Spare} ({Sleep})")]
    private partial void LogStarted(string serial, string role, string reason, string spare, string sleep);

    [LoggerMessage(EventIds.ReplacementSpareChosen, LogLevel.Information, "Replacement of {Serial}: spare {Spare} chosen")]
    private partial void LogSpareChosen(string serial, string spare);

    [LoggerMessage(EventIds.ReplacementWoken, LogLevel.Information, "Wake-on-LAN packet #{Count} for spare {Spare} ({Mac}) sent to {Target}")]
    private partial void LogWoken(string spare, string mac, string target, int count);

    [LoggerMessage(EventIds.ReplacementWakeFailed, LogLevel.Warning, "Wake-on-LAN for spare {Spare} ({Mac}) failed; retried later: {Reason}")]
    private partial void LogWakeFailed(string spare, string mac, string reason);

    [LoggerMessage(EventIds.ReplacementGaveUp, LogLevel.Warning, "Replacement of {Serial}: gave up on spare {Spare}: {Reason}")]
    private partial void LogGaveUp(string serial, string spare, string reason);

    [LoggerMessage(EventIds.ReplacementCompleted, LogLevel.Warning, "Replaced machine {Serial} by {Spare}, which now carries role {Role} ({Seconds:0.0} s after the start)")]
    private partial void LogCompleted(string serial, string spare, string role, double seconds);

    [LoggerMessage(EventIds.ReplacementHeld, LogLevel.Warning, "Machine {Serial} is due for replacement but held back: {Why}")]
    private partial void LogHeld(string serial, string why);

    [LoggerMessage(EventIds.ReplacementStepFailed, LogLevel.Warning, "Replacement step {Step} for {Serial} not done; the next sweep decides again: {Reason}")]
    private partial void LogStepFailed(string step, string serial, string reason);

    [LoggerMessage(EventIds.ReplacementDeposed, LogLevel.Warning, "Replacement controller stopped its sweep: {Reason}")]
    private partial void LogDeposed(string reason);
}
