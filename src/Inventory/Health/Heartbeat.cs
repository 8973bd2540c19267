using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Health;

/// <summary>
/// Status of one health check, as Nagios's: <c>ok</c>, <c>warning</c>, <c>critical</c>, <c>unknown</c> (the check could not tell).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
public enum CheckStatus
{
    [JsonStringEnumMemberName("ok")] Ok,
    [JsonStringEnumMemberName("warning")] Warning,
    [JsonStringEnumMemberName("critical")] Critical,
    [JsonStringEnumMemberName("unknown")] Unknown,
}

/// <summary>One check's result in a heartbeat.</summary>
/// <param name="Name">The check's name, unique within the heartbeat (letters, digits, '.', '_', '-', ':', at most 64).</param>
/// <param name="Status">Its status.</param>
/// <param name="Message">What it saw, for people (at most 1024 characters).</param>
/// <param name="Critical">Whether a failure of this check makes the machine unhealthy (after the grace period).</param>
public sealed record CheckResult(string Name, CheckStatus Status, string? Message = null, bool Critical = false)
{
    /// <summary>
    /// A critical check fails when its status is critical. Warning is not a failure, and neither is unknown: the agent
    /// reports unknown when it cannot tell (sensor absent, input unreadable, timeout), never as a verdict.
    /// </summary>
    [JsonIgnore]
    public bool IsCriticalFailure => Critical && Status == CheckStatus.Critical;
}

/// <summary>
/// The wire body of <c>POST /api/v1/agent/heartbeat</c> (documented in docs/agent-api.md). The node agent has its own
/// copy of this shape (it does not reference Inventory); change both and the document together.
/// </summary>
/// <param name="Serial">The machine's serial (its identity in the inventory).</param>
/// <param name="Timestamp">When the agent ran the checks, by its own clock (stored; the server's clock decides freshness).</param>
/// <param name="Checks">The check results (at most <see cref="HeartbeatLimits.MaxChecks"/>).</param>
/// <remarks>Every field is optional to the JSON reader so that a missing one is reported by name (<see cref="HeartbeatLimits.Validate"/>).</remarks>
public sealed record Heartbeat(string? Serial = null, DateTimeOffset? Timestamp = null, IReadOnlyList<CheckResult>? Checks = null);

/// <summary>Limits on a heartbeat body; a heartbeat beyond them is refused (400) as a whole.</summary>
public static class HeartbeatLimits
{
    public const int MaxChecks = 256;
    public const int MaxNameLength = 64;
    public const int MaxMessageLength = 1024;

    /// <summary>Checks <paramref name="heartbeat"/>; every problem is reported at once, by field path.</summary>
    public static void Validate(Heartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var errors = new Machines.MachineValidator.Errors();
        Machines.MachineValidator.CheckSerial(heartbeat.Serial, "serial", errors);
        if (heartbeat.Timestamp is null || heartbeat.Timestamp == default(DateTimeOffset))
        {
            errors.Add("timestamp", "is required (RFC 3339, e.g. 2026-11-25T09:00:00Z)");
        }

        if (heartbeat.Checks is null)
        {
            errors.Add("checks", "is required (an empty list is allowed)");
        }
        else
        {
            if (heartbeat.Checks.Count > MaxChecks)
            {
                errors.Add("checks", $"at most {MaxChecks} checks per heartbeat");
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < heartbeat.Checks.Count && i < MaxChecks; i++)
            {
                var c = heartbeat.Checks[i];
                if (c is null)
                {
                    errors.Add($"checks[{i}]", "must be an object");
                    continue;
                }

                if (string.IsNullOrEmpty(c.Name) || c.Name.Length > MaxNameLength ||
                    !c.Name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' or ':'))
                {
                    errors.Add($"checks[{i}].name", $"must be 1-{MaxNameLength} letters, digits, '.', '_', '-' or ':'");
                }
                else if (!names.Add(c.Name))
                {
                    errors.Add($"checks[{i}].name", "appears twice in the heartbeat");
                }

                if (!Enum.IsDefined(c.Status))
                {
                    errors.Add($"checks[{i}].status", "must be ok, warning, critical or unknown");
                }

                if (c.Message is { Length: > MaxMessageLength })
                {
                    errors.Add($"checks[{i}].message", $"must be at most {MaxMessageLength} characters");
                }
            }
        }

        errors.ThrowIfAny();
    }
}

/// <summary>The answer to a heartbeat: what the boot server recorded and the machine's lifecycle state now.</summary>
/// <param name="Serial">The machine.</param>
/// <param name="ReceivedAt">When the boot server received it (its clock).</param>
/// <param name="State">The machine's state (the state setter may change it on its next sweep).</param>
/// <param name="Action">An action the agent is to carry out now (reboot, power-off), or null; handed out once.</param>
public sealed record HeartbeatAck(string Serial, DateTimeOffset ReceivedAt, Machines.MachineState State, AgentAction? Action = null);
