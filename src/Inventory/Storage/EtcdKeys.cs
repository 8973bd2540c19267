using System.Globalization;

namespace NekkoMetal.Inventory.Storage;

/// <summary>
/// The etcd key schema: every key NekkoMetal writes, relative to the configured prefix (default <c>/nekko/</c>).
/// Documented in docs/etcd-schema.md; change both together and bump <see cref="SchemaVersion"/> with a migration.
/// </summary>
public sealed class EtcdKeys
{
    /// <summary>The schema this build reads and writes.</summary>
    public const int SchemaVersion = 1;

    public EtcdKeys(string prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix[0] != '/' || prefix[^1] != '/')
        {
            throw new ArgumentException("the etcd prefix must start and end with '/'", nameof(prefix));
        }

        Prefix = prefix;
    }

    public string Prefix { get; }

    /// <summary><c>schema-version</c>: the schema of the data under the prefix (decimal).</summary>
    public string Schema => Prefix + "schema-version";

    /// <summary><c>machines/{serial}</c>: JSON <see cref="Machines.Machine"/>.</summary>
    public string MachinesPrefix => Prefix + "machines/";

    public string Machine(string serial) => MachinesPrefix + serial;

    /// <summary><c>macs/{mac}</c>: the serial owning that MAC (unique index).</summary>
    public string MacsPrefix => Prefix + "macs/";

    public string Mac(string mac) => MacsPrefix + mac;

    /// <summary><c>ipam/config</c>: JSON <see cref="Ipam.IpamConfig"/>.</summary>
    public string IpamConfig => Prefix + "ipam/config";

    /// <summary><c>ipam/addresses/{a.b.c.d}</c>: the serial holding that address (unique index).</summary>
    public string AddressesPrefix => Prefix + "ipam/addresses/";

    public string Address(string ipv4) => AddressesPrefix + ipv4;

    /// <summary><c>dhcp/leases/{a.b.c.d}</c>: JSON <see cref="Dhcp.DhcpLease"/> of a dynamic DHCP lease.</summary>
    public string DhcpLeasesPrefix => Prefix + "dhcp/leases/";

    public string DhcpLease(string ipv4) => DhcpLeasesPrefix + ipv4;

    /// <summary>
    /// <c>dhcp/blocks/{first}-{last}</c>: JSON <see cref="Dhcp.DhcpAddressBlockClaim"/>, attached to the claiming boot
    /// server's etcd lease: the part of a DHCP range from which only that server makes offers.
    /// </summary>
    public string DhcpBlocksPrefix => Prefix + "dhcp/blocks/";

    public string DhcpBlock(string first, string last) => DhcpBlocksPrefix + first + "-" + last;

    /// <summary><c>progress/{mac}/{stage}</c>: "{time:O} {serial}" — when the machine with that MAC last reached a boot stage.</summary>
    public string ProgressPrefix => Prefix + "progress/";

    /// <summary><c>tokens/{name}</c>: JSON <see cref="Tokens.ApiToken"/> (hash only).</summary>
    public string TokensPrefix => Prefix + "tokens/";

    public string Token(string name) => TokensPrefix + name;

    /// <summary><c>assets/{name}</c>: JSON <see cref="Assets.AssetInfo"/>, written once the content is complete and verified.</summary>
    public string AssetsPrefix => Prefix + "assets/";

    public string Asset(string name) => AssetsPrefix + name;

    /// <summary><c>assets-on/{serverId}/{sha256}</c>: empty, with that server's lease: the server has that content on its disk.</summary>
    public string AssetHoldersPrefix => Prefix + "assets-on/";

    public string AssetHolder(string serverId, string sha256) => AssetHoldersPrefix + serverId + "/" + sha256;

    /// <summary><c>profiles/{role}</c>: JSON <see cref="Profiles.BootProfile"/>, the boot profile of a role.</summary>
    public string ProfilesPrefix => Prefix + "profiles/";

    public string Profile(string role) => ProfilesPrefix + role;

    /// <summary><c>installs/{serial}</c>: JSON <see cref="Profiles.InstallRecord"/>, the profile version a machine was given.</summary>
    public string InstallsPrefix => Prefix + "installs/";

    public string Install(string serial) => InstallsPrefix + serial;

    /// <summary><c>servers/{id}</c>: JSON <see cref="Servers.BootServerRecord"/>, with the boot server's lease.</summary>
    public string ServersPrefix => Prefix + "servers/";

    public string Server(string id) => ServersPrefix + id;

    /// <summary>
    /// <c>leaders/{name}</c>: the id of the boot server leading controller <c>name</c>, with that server's election lease.
    /// Its create revision is the leader's fence (see <see cref="Leadership.LeaderElector"/>).
    /// </summary>
    public string LeadersPrefix => Prefix + "leaders/";

    public string Leader(string name) => LeadersPrefix + name;

    /// <summary><c>health/{serial}</c>: JSON <see cref="Health.MachineHealth"/>, the machine's last heartbeat and its checks.</summary>
    public string HealthPrefix => Prefix + "health/";

    public string Health(string serial) => HealthPrefix + serial;

    /// <summary><c>replacements/{failed serial}</c>: automatic replacements by spares, written by the leading controller.</summary>
    public string ReplacementsPrefix => Prefix + "replacements/";

    public string Replacement(string failedSerial) => ReplacementsPrefix + failedSerial;

    /// <summary><c>audit/{ticks:D19}-{id}</c>: JSON <see cref="Audit.AuditEntry"/>, ordered by time.</summary>
    public string AuditPrefix => Prefix + "audit/";

    /// <summary><c>audit-by-machine/{serial}/{ticks:D19}-{id}</c>: the same entries indexed by machine.</summary>
    public string AuditByMachinePrefix => Prefix + "audit-by-machine/";

    public string AuditByMachine(string serial) => AuditByMachinePrefix + serial + "/";

    public static string AuditSuffix(DateTimeOffset time, string id) =>
        time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + id;

    public static string AuditTimeBound(DateTimeOffset time) => time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The etcd range_end that covers every key starting with <paramref name="prefix"/>.</summary>
    public static string RangeEnd(string prefix)
    {
        var chars = prefix.ToCharArray();
        chars[^1] = (char)(chars[^1] + 1);
        return new string(chars);
    }
}
