namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// How far a machine got in its last network boot, by stage, as seen by the boot servers. Kept per MAC
/// (an unknown machine has no serial yet) under <c>progress/{mac}</c>.
/// </summary>
public sealed record BootProgress
{
    public required string Mac { get; init; }
    public string? Serial { get; init; }

    /// <summary>Stage name → when it was last seen (UTC).</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Stages { get; init; } = new Dictionary<string, DateTimeOffset>();

    public string? LastStage { get; init; }
    public DateTimeOffset? LastSeen { get; init; }
}

/// <summary>The stages, in boot order.</summary>
public static class BootStages
{
    public const string DhcpDiscover = "dhcp-discover";
    public const string DhcpAck = "dhcp-ack";
    public const string Nbp = "nbp";
    public const string Script = "script";
    public const string Kernel = "kernel";
    public const string Initrd = "initrd";
    public const string Discovered = "discovered";
    public const string LocalBoot = "local-boot";

    /// <summary>The machine was given its profile's install script.</summary>
    public const string Install = "install";

    /// <summary>The machine (its installer) reported a successful install.</summary>
    public const string Installed = "installed";
}
