using System.Text.Json;

namespace NekkoMetal.Inventory.Audit;

/// <summary>One mutation: who (token name or a system actor), what, when, and the object before and after.</summary>
public sealed record AuditEntry
{
    public required string Id { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Actor { get; init; }

    /// <summary>machine.create, machine.update, machine.state, machine.delete, ipam.update, token.create, token.delete.</summary>
    public required string Action { get; init; }

    public string? Serial { get; init; }
    public string? Reason { get; init; }
    public JsonElement? Before { get; init; }
    public JsonElement? After { get; init; }
}

public sealed record AuditQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public string? Serial { get; init; }
    public int Limit { get; init; } = 100;

    public const int MaxLimit = 10_000;
}

public static class AuditActions
{
    public const string MachineCreate = "machine.create";
    public const string MachineUpdate = "machine.update";
    public const string MachineState = "machine.state";
    public const string MachineDelete = "machine.delete";
    public const string MachineAction = "machine.action";
    public const string IpamUpdate = "ipam.update";
    public const string TokenCreate = "token.create";
    public const string TokenDelete = "token.delete";
    public const string ReplacementStart = "replacement.start";
    public const string ReplacementSpare = "replacement.spare";
    public const string ReplacementWake = "replacement.wake";
    public const string ReplacementGiveUp = "replacement.give-up";
    public const string ReplacementComplete = "replacement.complete";
    public const string ReplacementForget = "replacement.forget";
}
