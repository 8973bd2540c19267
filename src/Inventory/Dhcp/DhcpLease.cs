using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Dhcp;

[JsonConverter(typeof(JsonStringEnumConverter<DhcpLeaseState>))]
public enum DhcpLeaseState
{
    /// <summary>Held for a client between OFFER and REQUEST.</summary>
    [JsonStringEnumMemberName("offered")] Offered,

    /// <summary>Leased (ACK sent).</summary>
    [JsonStringEnumMemberName("bound")] Bound,

    /// <summary>Given back by the client; free again.</summary>
    [JsonStringEnumMemberName("released")] Released,

    /// <summary>The client found the address in use (DHCPDECLINE): quarantined until it expires.</summary>
    [JsonStringEnumMemberName("declined")] Declined,
}

/// <summary>
/// A dynamic DHCP lease, stored as <c>dhcp/leases/{a.b.c.d}</c>. Machines in the inventory get their IPAM address
/// and need no lease record; leases are for machines not known yet (discovery).
/// </summary>
public sealed record DhcpLease
{
    public required string Address { get; init; }

    /// <summary>Hex of option 61 when the client sent one, else "mac:" + its MAC: who the lease belongs to.</summary>
    public required string Client { get; init; }

    public required string Mac { get; init; }
    public required DhcpLeaseState State { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public string? HostName { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }

    /// <summary>Whether another client may take the address at <paramref name="now"/>.</summary>
    public bool IsFreeAt(DateTimeOffset now) => State == DhcpLeaseState.Released || ExpiresAt <= now;
}
