using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Profiles;

/// <summary>
/// The boot profile of a role, stored under <c>profiles/{role}</c>: what a machine of that role boots (kernel and
/// initrd assets, a kernel command line template) and the configuration it fetches at first boot (a cloud-init or an
/// Ignition template), rendered per machine. <see cref="Version"/> goes up by one with every save.
/// <see cref="Revision"/> is etcd's mod_revision of the key: not stored, filled on read, used for compare-and-swap.
/// </summary>
public sealed record BootProfile
{
    public required string Role { get; init; }

    /// <summary>1 for the first save, then one more with every save.</summary>
    public required long Version { get; init; }

    /// <summary>Asset name of the kernel (served at <c>/boot/assets/{name}</c>).</summary>
    public required string Kernel { get; init; }

    /// <summary>Asset names of the initrds, loaded in order.</summary>
    public IReadOnlyList<string> Initrds { get; init; } = [];

    /// <summary>Liquid template of the kernel command line; the datasource argument is appended when absent.</summary>
    public string Cmdline { get; init; } = "";

    public required ConfigTemplate Config { get; init; }

    /// <summary>SSH public keys offered to the templates as <c>ssh_authorized_keys</c>.</summary>
    public IReadOnlyList<string> SshAuthorizedKeys { get; init; } = [];

    public DateTimeOffset UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }
}

/// <summary>
/// The configuration template of a profile. <see cref="Kind"/> <c>cloud-init</c>: <see cref="UserData"/> (must render
/// to a <c>#cloud-config</c> YAML document) and optionally <see cref="MetaData"/> (YAML; a default with instance-id and
/// local-hostname otherwise), served as NoCloud over HTTP. <see cref="Kind"/> <c>ignition</c>: <see cref="Ignition"/>
/// (must render to Ignition spec 3.x JSON).
/// </summary>
public sealed record ConfigTemplate
{
    public const string CloudInit = "cloud-init";
    public const string IgnitionKind = "ignition";

    public required string Kind { get; init; }
    public string? UserData { get; init; }
    public string? MetaData { get; init; }
    public string? Ignition { get; init; }
}

/// <summary>What an admin saves as a profile. With <see cref="Version"/> the save applies only over that version (409 otherwise).</summary>
public sealed record BootProfileSpec
{
    public string? Kernel { get; init; }
    public IReadOnlyList<string>? Initrds { get; init; }
    public string? Cmdline { get; init; }
    public ConfigTemplate? Config { get; init; }
    public IReadOnlyList<string>? SshAuthorizedKeys { get; init; }
    public long? Version { get; init; }
}

/// <summary>
/// <c>installs/{serial}</c>: which profile version a machine was given and whether it is installed. Written when the
/// machine fetches its rendered configuration (the version it installs with); <see cref="InstalledAt"/> is set by the
/// install report and cleared by a reinstall request (<see cref="ReinstallRequestedAt"/>).
/// </summary>
public sealed record InstallRecord
{
    public required string Serial { get; init; }
    public required string Role { get; init; }
    public required long ProfileVersion { get; init; }
    public DateTimeOffset ConfigFetchedAt { get; init; }

    /// <summary>When the machine reported a successful install of <see cref="ProfileVersion"/>; null while it is not installed.</summary>
    public DateTimeOffset? InstalledAt { get; init; }

    /// <summary>When an admin last asked for a reinstall (which cleared <see cref="InstalledAt"/>).</summary>
    public DateTimeOffset? ReinstallRequestedAt { get; init; }

    /// <summary>
    /// Whether a machine of <paramref name="role"/> with this record (null: none) is due for an install: it never reported
    /// one, a reinstall was requested since, or it was installed for another role. A new version of the same role's
    /// profile does not make an installed machine due (a profile save must not reinstall a fleet at its next reboot):
    /// <c>nekkoctl machines reinstall</c> does.
    /// </summary>
    public static bool IsInstallDue(InstallRecord? record, string role) =>
        record?.InstalledAt is null || !string.Equals(record.Role, role, StringComparison.Ordinal);

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }
}
