using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Health;

/// <summary>
/// Turns heartbeats into machine states (issue 6), like sabakan-state-setter: on each sweep — a Quartz job in the boot
/// server — the leader reads every machine (cache) and every <c>health/</c> record (etcd), asks
/// <see cref="StateDecision"/>, and applies the changes through <see cref="MachineRepository"/> with actor
/// <see cref="Actor"/> (audited) and its leadership fence, so a deposed leader's late write is refused. A non-leader
/// does nothing.
/// </summary>
public sealed partial class StateSetter(
    MachineRepository machines, HealthRepository health, InventoryContext ctx, ILeadership leadership, StateSetterSettings settings, ILogger<StateSetter> logger) : ILeaderSweep
{
    public const string Actor = "state-setter";

    private readonly ILogger<StateSetter> _logger = logger;
    private LeaderFence? _termFence;
    private DateTimeOffset _termStart;

    public StateSetterSettings Settings => settings;

    /// <summary>One sweep; returns the number of machines whose state changed (0 when not the leader).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var fence = leadership.Fence;
        if (fence is null)
        {
            return 0;
        }

        if (fence != _termFence)
        {
            _termFence = fence;
            _termStart = ctx.Time.GetUtcNow();
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, leadership.LeadershipToken);
        var token = linked.Token;
        await ctx.EnsureReadyAsync(token);
        var records = await health.ListAsync(token);
        var now = ctx.Time.GetUtcNow();
        var changed = 0;
        foreach (var machine in ctx.Cache.Machines)
        {
            if (StateDecision.Decide(machine.State, records.GetValueOrDefault(machine.Serial), now, _termStart, settings) is not { } change)
            {
                continue;
            }

            try
            {
                var updated = await machines.SetStateAsync(machine.Serial, change.To, change.Reason, Actor, fence, token);
                if (updated.State == change.To)
                {
                    changed++;
                    LogChanged(machine.Serial, machine.State.ToWire(), change.To.ToWire(), change.Reason);
                }
            }
            catch (NotLeaderException e)
            {
                LogDeposed(e.Message);
                return changed;
            }
            catch (InventoryException e) when (e is ForbiddenTransitionException or ConflictException or NotFoundException)
            {
                // someone else changed or deleted it since the cache was read: the next sweep sees the new state
                LogFailed(machine.Serial, e.Message);
            }
        }

        return changed;
    }

    [LoggerMessage(EventIds.StateSetterChanged, LogLevel.Information, "State setter: machine {Serial} {From} -> {To}: {Reason}")]
    private partial void LogChanged(string serial, string from, string to, string reason);

    [LoggerMessage(EventIds.StateSetterFailed, LogLevel.Warning, "State setter: machine {Serial} not changed: {Reason}")]
    private partial void LogFailed(string serial, string reason);

    [LoggerMessage(EventIds.StateSetterDeposed, LogLevel.Warning, "State setter stopped its sweep: {Reason}")]
    private partial void LogDeposed(string reason);
}
