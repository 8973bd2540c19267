using System.Buffers.Binary;
using System.Net;

namespace NekkoMetal.Inventory.Ipam;

/// <summary>The address plan: subnets, each with a range machines get their addresses from.</summary>
public sealed record IpamConfig
{
    public IReadOnlyList<IpamSubnet> Subnets { get; init; } = [];

    /// <summary>etcd mod_revision of the config key (not stored; filled on read).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }
}

/// <summary>
/// One IPv4 subnet. When the range is absent it is every host address of the subnet except the gateway.
/// </summary>
public sealed record IpamSubnet
{
    public string? Name { get; init; }
    public string? Cidr { get; init; }
    public string? RangeStart { get; init; }
    public string? RangeEnd { get; init; }
    public string? Gateway { get; init; }
    public IReadOnlyList<string>? Dns { get; init; }

    /// <summary>DHCP search domain (option 15).</summary>
    public string? DomainName { get; init; }

    /// <summary>First address of the dynamic DHCP pool for machines not yet in the inventory (discovery); none when absent.</summary>
    public string? DhcpRangeStart { get; init; }

    public string? DhcpRangeEnd { get; init; }

    /// <summary>DHCP lease time in seconds (default 3600).</summary>
    public int? LeaseSeconds { get; init; }
}

/// <summary>A validated subnet with its range as numbers, ready for allocation.</summary>
public sealed record ResolvedSubnet(string Name, uint Network, int PrefixLength, uint RangeStart, uint RangeEnd, uint? Gateway)
{
    public uint? DhcpStart { get; init; }
    public uint? DhcpEnd { get; init; }
    public IReadOnlyList<uint> Dns { get; init; } = [];
    public string? DomainName { get; init; }
    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    public bool InDhcpRange(uint address) => DhcpStart is { } s && DhcpEnd is { } e && address >= s && address <= e;

    public uint Mask => PrefixLength == 0 ? 0 : uint.MaxValue << (32 - PrefixLength);

    public bool Contains(uint address) => (address & Mask) == Network;

    public bool InRange(uint address) => address >= RangeStart && address <= RangeEnd;

    public uint Size => RangeEnd - RangeStart + 1;
}

/// <summary>IPv4 addresses as host-order numbers, which sort and count naturally.</summary>
public static class Ipv4
{
    public static bool TryParse(string? text, out uint value)
    {
        value = 0;
        if (text is null || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return false;
        }

        // IPAddress.TryParse accepts "1" or "1.2"; require the dotted quad a user means.
        if (text.Count(c => c == '.') != 3)
        {
            return false;
        }

        Span<byte> b = stackalloc byte[4];
        ip.TryWriteBytes(b, out _);
        value = BinaryPrimitives.ReadUInt32BigEndian(b);
        return true;
    }

    public static string Format(uint value) =>
        $"{value >> 24}.{(value >> 16) & 0xff}.{(value >> 8) & 0xff}.{value & 0xff}";
}

public static class IpamValidator
{
    public const int MaxSubnets = 256;

    /// <summary>Validates the whole config (every error at once) and returns the subnets ready for allocation.</summary>
    public static IReadOnlyList<ResolvedSubnet> Resolve(IpamConfig config)
    {
        var errors = new Machines.MachineValidator.Errors();
        var result = new List<ResolvedSubnet>();
        if (config.Subnets is null)
        {
            errors.Add("subnets", "is required");
            errors.ThrowIfAny();
        }

        if (config.Subnets!.Count > MaxSubnets)
        {
            errors.Add("subnets", $"at most {MaxSubnets} subnets");
            errors.ThrowIfAny();
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var networks = new List<(string Name, uint Network, uint Mask)>();
        for (var i = 0; i < config.Subnets.Count; i++)
        {
            var s = config.Subnets[i];
            var f = $"subnets[{i}]";
            if (s is null)
            {
                errors.Add(f, "must be an object");
                continue;
            }

            var name = s.Name ?? $"subnet-{i}";
            if (!Machines.MachineValidator.IsValidLabelValue(name) || name.Length == 0)
            {
                errors.Add($"{f}.name", "must be 1-63 letters, digits, '-', '_' or '.'");
            }
            else if (!names.Add(name))
            {
                errors.Add($"{f}.name", $"'{name}' is used by another subnet");
            }

            if (!TryParseCidr(s.Cidr, out var network, out var prefix))
            {
                errors.Add($"{f}.cidr", "must be an IPv4 network such as 10.0.0.0/24, with no host bits set, prefix 8-30");
                continue;
            }

            var mask = uint.MaxValue << (32 - prefix);
            var broadcast = network | ~mask;
            foreach (var (otherName, otherNetwork, otherMask) in networks)
            {
                if ((network & otherMask) == otherNetwork || (otherNetwork & mask) == network)
                {
                    errors.Add($"{f}.cidr", $"overlaps subnet '{otherName}'");
                }
            }

            networks.Add((name, network, mask));
            uint? gateway = null;
            if (s.Gateway is not null)
            {
                if (!Ipv4.TryParse(s.Gateway, out var gw) || (gw & mask) != network || gw == network || gw == broadcast)
                {
                    errors.Add($"{f}.gateway", $"must be a host address inside {s.Cidr}");
                }
                else
                {
                    gateway = gw;
                }
            }

            foreach (var (dns, j) in (s.Dns ?? []).Select((d, j) => (d, j)))
            {
                if (!Ipv4.TryParse(dns, out _))
                {
                    errors.Add($"{f}.dns[{j}]", "must be an IPv4 address");
                }
            }

            uint start = network + 1, end = broadcast - 1;
            var rangeOk = true;
            if (s.RangeStart is not null && (!Ipv4.TryParse(s.RangeStart, out start) || (start & mask) != network || start == network || start == broadcast))
            {
                errors.Add($"{f}.rangeStart", $"must be a host address inside {s.Cidr}");
                rangeOk = false;
            }

            if (s.RangeEnd is not null && (!Ipv4.TryParse(s.RangeEnd, out end) || (end & mask) != network || end == network || end == broadcast))
            {
                errors.Add($"{f}.rangeEnd", $"must be a host address inside {s.Cidr}");
                rangeOk = false;
            }

            if (rangeOk && start > end)
            {
                errors.Add($"{f}.rangeEnd", "must not be below rangeStart");
                rangeOk = false;
            }

            uint? dhcpStart = null, dhcpEnd = null;
            if (s.DhcpRangeStart is not null || s.DhcpRangeEnd is not null)
            {
                if (!Ipv4.TryParse(s.DhcpRangeStart, out var ds) || (ds & mask) != network || ds == network || ds == broadcast)
                {
                    errors.Add($"{f}.dhcpRangeStart", $"must be a host address inside {s.Cidr}");
                }
                else if (!Ipv4.TryParse(s.DhcpRangeEnd, out var de) || (de & mask) != network || de == network || de == broadcast || de < ds)
                {
                    errors.Add($"{f}.dhcpRangeEnd", $"must be a host address inside {s.Cidr}, not below dhcpRangeStart");
                }
                else if (s.RangeStart is null || s.RangeEnd is null)
                {
                    errors.Add($"{f}.rangeStart", "must be given (with rangeEnd) when a DHCP range is set, so the two do not overlap");
                }
                else if (rangeOk && ds <= end && de >= start)
                {
                    errors.Add($"{f}.dhcpRangeStart", "the DHCP range overlaps the machine range");
                }
                else
                {
                    dhcpStart = ds;
                    dhcpEnd = de;
                }
            }

            if (s.LeaseSeconds is < 60 or > 31_536_000)
            {
                errors.Add($"{f}.leaseSeconds", "must be between 60 and 31536000");
            }

            if (s.DomainName is { } domain && (domain.Length > 253 || !domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')))
            {
                errors.Add($"{f}.domainName", "must be a DNS name");
            }

            if (rangeOk)
            {
                result.Add(new ResolvedSubnet(name, network, prefix, start, end, gateway)
                {
                    DhcpStart = dhcpStart,
                    DhcpEnd = dhcpEnd,
                    Dns = (s.Dns ?? []).Select(d => Ipv4.TryParse(d, out var a) ? a : 0).Where(a => a != 0).ToList(),
                    DomainName = s.DomainName,
                    LeaseTime = TimeSpan.FromSeconds(s.LeaseSeconds ?? 3600),
                });
            }
        }

        errors.ThrowIfAny();
        return result;
    }

    public static bool TryParseCidr(string? cidr, out uint network, out int prefix)
    {
        network = 0;
        prefix = 0;
        var slash = cidr?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0 || !Ipv4.TryParse(cidr![..slash], out network) ||
            !int.TryParse(cidr.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) ||
            prefix is < 8 or > 30)
        {
            return false;
        }

        var mask = uint.MaxValue << (32 - prefix);
        return (network & ~mask) == 0;
    }
}
