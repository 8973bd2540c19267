using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Health;

/// <summary>
/// <c>health/{serial}</c>: what the boot servers last heard from a machine's agent. Times are the receiving boot
/// server's clock, never the agent's (an agent with a wrong clock must not look fresh or stale).
/// </summary>
public sealed record MachineHealth
{
    public required string Serial { get; init; }

    /// <summary>When a boot server received the last heartbeat (its clock).</summary>
    public DateTimeOffset LastHeartbeatAt { get; init; }

    /// <summary>The heartbeat's own timestamp (the agent's clock), for people comparing clocks.</summary>
    public DateTimeOffset ReportedAt { get; init; }

    /// <summary>The boot server that received it.</summary>
    public string? ReceivedBy { get; init; }

    public IReadOnlyList<CheckRecord> Checks { get; init; } = [];

    /// <summary>An action the agent is to carry out, handed to it (and removed) with the answer to its next heartbeat.</summary>
    public PendingAction? PendingAction { get; init; }

    /// <summary>etcd mod_revision of the key (not stored).</summary>
    [JsonIgnore]
    public long Revision { get; init; }
}

/// <summary>
/// One check as last reported, with its history reduced to what the state setter needs: since when (server clock)
/// it has failed without a break. A heartbeat where the check passes or is missing ends the run.
/// </summary>
public sealed record CheckRecord(string Name, CheckStatus Status, string? Message, bool Critical, DateTimeOffset? FailingSince)
{
    [JsonIgnore]
    public bool IsCriticalFailure => Critical && Status == CheckStatus.Critical;

    /// <summary>The record of <paramref name="result"/> received at <paramref name="now"/>, continuing <paramref name="previous"/>'s failing run.</summary>
    public static CheckRecord From(CheckResult result, CheckRecord? previous, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        DateTimeOffset? failingSince = result.IsCriticalFailure
            ? previous is { IsCriticalFailure: true, FailingSince: { } since } ? since : now
            : null;
        return new CheckRecord(result.Name, result.Status, result.Message, result.Critical, failingSince);
    }
}

/// <summary>What an agent can be asked to do on its machine.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AgentAction>))]
public enum AgentAction
{
    /// <summary>Reboot (e.g. to network-boot into a reinstall).</summary>
    [JsonStringEnumMemberName("reboot")] Reboot,

    /// <summary>Power off (e.g. to put a spare to sleep until Wake-on-LAN).</summary>
    [JsonStringEnumMemberName("power-off")] PowerOff,
}

/// <summary>An action waiting for the machine's next heartbeat: delivered at most once.</summary>
public sealed record PendingAction(AgentAction Action, DateTimeOffset RequestedAt, string RequestedBy, string? Reason);
