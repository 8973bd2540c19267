using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Replacement;

/// <summary>
/// <c>replacements/{failed serial}</c>: one automatic replacement of a failed machine by a spare, written only by the
/// leading boot server's replacement controller (fenced), read by the API and <c>nekkoctl replacements</c>.
/// Each step is also in the audit log (the machines' state and role changes, and <c>replacement.*</c> entries).
/// </summary>
public sealed record MachineReplacement
{
    /// <summary>The machine being replaced (retiring, then retired).</summary>
    public required string Failed { get; init; }

    /// <summary>The role the failed machine carried, which the spare takes.</summary>
    public required string Role { get; init; }

    /// <summary>Whether <see cref="Role"/> is a control-plane role (at most one such replacement at a time).</summary>
    public bool ControlPlane { get; init; }

    public ReplacementPhase Phase { get; init; } = ReplacementPhase.Waking;

    /// <summary>Why the failed machine is replaced: its state and for how long.</summary>
    public string Reason { get; init; } = "";

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The spare being woken or waited for; null while none is available.</summary>
    public string? Spare { get; init; }

    /// <summary>When <see cref="Spare"/> was chosen: a heartbeat received after this proves it is up.</summary>
    public DateTimeOffset? SpareChosenAt { get; init; }

    /// <summary>Whether the spare was asleep (not heartbeating) when chosen, so Wake-on-LAN was needed.</summary>
    public bool SpareWasAsleep { get; init; }

    /// <summary>The last Wake-on-LAN packet sent for <see cref="Spare"/>, and how many so far.</summary>
    public DateTimeOffset? LastWakeAt { get; init; }

    public int WakePackets { get; init; }

    /// <summary>Where the last magic packet went (broadcast address and port).</summary>
    public string? WakeTarget { get; init; }

    /// <summary>Spares tried before that did not come up within the wake timeout.</summary>
    public IReadOnlyList<string> GaveUpOn { get; init; } = [];

    /// <summary>The spare's first heartbeat after it was chosen (server clock).</summary>
    public DateTimeOffset? SpareHeartbeatAt { get; init; }

    /// <summary>When the replacement was done: the spare carries the role and the failed machine is retired.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>etcd mod_revision of the key (not stored).</summary>
    [JsonIgnore]
    public long Revision { get; init; }

    [JsonIgnore]
    public bool IsActive => Phase != ReplacementPhase.Completed;
}

[JsonConverter(typeof(JsonStringEnumConverter<ReplacementPhase>))]
public enum ReplacementPhase
{
    /// <summary>The failed machine is retiring; a spare is being woken (or waited for, or looked for).</summary>
    [JsonStringEnumMemberName("waking")] Waking,

    /// <summary>The spare carries the role (reinstall requested), the failed machine is retired.</summary>
    [JsonStringEnumMemberName("completed")] Completed,
}

/// <summary>What a role demands of a spare that is to take it (configured per role; nothing demanded by default).</summary>
public sealed record RoleConstraints
{
    /// <summary>At least this much memory, as the machine's hardware facts report it.</summary>
    public long? MinMemoryBytes { get; init; }

    /// <summary>At least this many CPU threads (cores when threads are not reported).</summary>
    public int? MinCpuThreads { get; init; }

    /// <summary>Labels the spare must carry with these values.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>The replacement controller's limits (bound from the boot server's options, validated there).</summary>
public sealed record ReplacementSettings
{
    /// <summary>Off by default in code; the boot server turns it on (its own default is on).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>A machine with a role unhealthy or unreachable for this long is replaced.</summary>
    public TimeSpan ReplaceAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many replacements in progress at once.</summary>
    public int MaxConcurrent { get; init; } = 1;

    /// <summary>A machine that took a role by replacement is not replaced again (nor chosen as a spare) for this long.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>A chosen spare that has not heartbeated for this long is given up on and another one is chosen.</summary>
    public TimeSpan WakeTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Magic packets are repeated this often while waiting for the spare (UDP can be lost).</summary>
    public TimeSpan WakeInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A spare heartbeating more recently than this is awake (no Wake-on-LAN needed).</summary>
    public TimeSpan AwakeWithin { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Whether a spare that takes a role is asked (through its agent) to reboot, so that it network-boots into the
    /// install of that role's profile at once rather than at its next reboot.
    /// </summary>
    public bool RebootSpare { get; init; } = true;

    /// <summary>The role of spares.</summary>
    public string SpareRole { get; init; } = "spare";

    /// <summary>Roles of control-plane machines: never more than one of them replaced at a time.</summary>
    public IReadOnlySet<string> ControlPlaneRoles { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "control-plane" };

    /// <summary>Per role: what a spare must have to take it.</summary>
    public IReadOnlyDictionary<string, RoleConstraints> Constraints { get; init; } = new Dictionary<string, RoleConstraints>();

    /// <summary>Completed replacements are kept this long under <c>replacements/</c> (the audit log keeps them for good).</summary>
    public TimeSpan KeepCompleted { get; init; } = TimeSpan.FromDays(7);
}
