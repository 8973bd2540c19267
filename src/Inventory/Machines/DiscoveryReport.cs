namespace NekkoMetal.Inventory.Machines;

/// <summary>What the discovery image reports about the machine it runs on.</summary>
public sealed record DiscoveryReport
{
    /// <summary>SMBIOS system serial as read from /sys/class/dmi/id/product_serial (may be a placeholder).</summary>
    public string? Serial { get; init; }

    /// <summary>SMBIOS system UUID (/sys/class/dmi/id/product_uuid).</summary>
    public Guid? Uuid { get; init; }

    /// <summary>Permanent MACs of the built-in NICs, the one it booted from first.</summary>
    public IReadOnlyList<string>? Macs { get; init; }

    public HardwareFacts? Hardware { get; init; }
}

/// <summary>The answer to a discovery: who the machine is now, and what it should do next.</summary>
public sealed record DiscoveryResult(Machine Machine, bool Created, string Action);
