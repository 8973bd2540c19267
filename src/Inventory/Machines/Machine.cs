using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// A machine as stored under <c>machines/{serial}</c>. Identity is the SMBIOS serial.
/// <see cref="Revision"/> is etcd's mod_revision of the key: not stored, filled on read, used for compare-and-swap.
/// </summary>
public sealed record Machine
{
    public required string Serial { get; init; }
    public Guid? Uuid { get; init; }
    public IReadOnlyList<string> Macs { get; init; } = [];
    public string? Role { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? Site { get; init; }
    public int? Rack { get; init; }
    public int? Index { get; init; }

    /// <summary>Addresses given by IPAM at registration.</summary>
    public IReadOnlyList<string> Ipv4 { get; init; } = [];

    /// <summary>The IPAM subnet the address came from.</summary>
    public string? Subnet { get; init; }

    public HardwareFacts? Hardware { get; init; }
    public PowerInfo Power { get; init; } = new();
    public MachineState State { get; init; } = MachineState.Uninitialized;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset StateChangedAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }
}

/// <summary>How to power a machine on: a Wake-on-LAN MAC and, where it has one, a BMC.</summary>
public sealed record PowerInfo
{
    public string? WolMac { get; init; }
    public BmcInfo? Bmc { get; init; }
}

public sealed record BmcInfo
{
    /// <summary>ipmi, redfish, …</summary>
    public required string Type { get; init; }
    public required string Address { get; init; }
}

/// <summary>Hardware facts, filled by discovery and the agent.</summary>
public sealed record HardwareFacts
{
    public string? Vendor { get; init; }
    public string? Product { get; init; }
    public CpuFacts? Cpu { get; init; }
    public long? MemoryBytes { get; init; }
    public IReadOnlyList<DiskFacts> Disks { get; init; } = [];
    public IReadOnlyList<NicFacts> Nics { get; init; } = [];
}

public sealed record CpuFacts
{
    public string? Model { get; init; }
    public int? Sockets { get; init; }
    public int? Cores { get; init; }
    public int? Threads { get; init; }
}

public sealed record DiskFacts
{
    public required string Name { get; init; }
    public long? SizeBytes { get; init; }
    public string? Model { get; init; }
    public string? Serial { get; init; }
    public bool? Rotational { get; init; }
}

public sealed record NicFacts
{
    public required string Name { get; init; }
    public string? Mac { get; init; }
    public string? Driver { get; init; }
    public int? SpeedMbps { get; init; }
    public bool? Link { get; init; }
}

/// <summary>What an admin (or discovery) registers. The server adds state, addresses and timestamps.</summary>
public sealed record MachineSpec
{
    public string? Serial { get; init; }
    public Guid? Uuid { get; init; }
    public IReadOnlyList<string>? Macs { get; init; }
    public string? Role { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public string? Site { get; init; }
    public int? Rack { get; init; }
    public int? Index { get; init; }

    /// <summary>The IPAM subnet to take the address from; the first with a free address when absent.</summary>
    public string? Subnet { get; init; }

    public PowerInfo? Power { get; init; }
    public HardwareFacts? Hardware { get; init; }
}

/// <summary>
/// A partial update (JSON merge patch semantics): absent fields stay; in <see cref="Labels"/> a null value removes the label.
/// When <see cref="Revision"/> is given the update applies only to that revision (409 otherwise).
/// </summary>
public sealed record MachinePatch
{
    public Guid? Uuid { get; init; }
    public IReadOnlyList<string>? Macs { get; init; }
    public string? Role { get; init; }
    public IReadOnlyDictionary<string, string?>? Labels { get; init; }
    public string? Site { get; init; }
    public int? Rack { get; init; }
    public int? Index { get; init; }
    public PowerInfo? Power { get; init; }
    public HardwareFacts? Hardware { get; init; }
    public long? Revision { get; init; }
}

/// <summary>A filter over machines; every given criterion must hold.</summary>
public sealed record MachineQuery
{
    public string? Serial { get; init; }
    public string? Role { get; init; }
    public MachineState? State { get; init; }
    public string? Mac { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public bool Matches(Machine m)
    {
        if (Serial is not null && !string.Equals(m.Serial, Serial, StringComparison.Ordinal))
        {
            return false;
        }

        if (Role is not null && !string.Equals(m.Role, Role, StringComparison.Ordinal))
        {
            return false;
        }

        if (State is { } s && m.State != s)
        {
            return false;
        }

        if (Mac is not null && !m.Macs.Contains(Mac, StringComparer.Ordinal))
        {
            return false;
        }

        foreach (var (k, v) in Labels)
        {
            if (!m.Labels.TryGetValue(k, out var actual) || !string.Equals(actual, v, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
