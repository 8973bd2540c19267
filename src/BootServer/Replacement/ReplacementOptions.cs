using System.Net;
using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Replacement;

namespace NekkoMetal.BootServer.Replacement;

/// <summary>
/// Settings of the replacement controller and Wake-on-LAN. Bound from the same configuration as
/// <see cref="Configuration.BootServerOptions"/> (flags listed in <see cref="Configuration.BootServerSettings"/>);
/// <see cref="RoleConstraints"/> only from the config file (<c>"roleConstraints": {"worker": {"minMemoryBytes": …}}</c>).
/// </summary>
public sealed class ReplacementOptions
{
    /// <summary>Whether failed machines are replaced by spares at all.</summary>
    public bool ReplacementEnabled { get; set; } = true;

    /// <summary>A machine with a role unhealthy or unreachable this long is replaced.</summary>
    public double ReplaceAfterSeconds { get; set; } = 300;

    /// <summary>At most this many replacements in progress at once.</summary>
    public int MaxConcurrentReplacements { get; set; } = 1;

    /// <summary>A machine that took a role by replacement is not replaced again for this long.</summary>
    public double ReplacementCooldownSeconds { get; set; } = 1800;

    /// <summary>A chosen spare that has not heartbeated for this long is given up on.</summary>
    public double WakeTimeoutSeconds { get; set; } = 600;

    /// <summary>Magic packets are repeated this often while waiting for the spare.</summary>
    public double WakeIntervalSeconds { get; set; } = 30;

    /// <summary>Whether a spare that takes a role is asked to reboot (to network-boot into its new role's install).</summary>
    public bool ReplacementRebootSpare { get; set; } = true;

    /// <summary>The role of spares.</summary>
    public string SpareRole { get; set; } = "spare";

    /// <summary>Comma-separated control-plane roles: never more than one of them replaced at a time.</summary>
    public string ControlPlaneRoles { get; set; } = "control-plane";

    /// <summary>Where magic packets go: empty = the directed broadcast of the spare's IPAM subnet (else 255.255.255.255).</summary>
    public string WolBroadcast { get; set; } = "";

    /// <summary>UDP port of magic packets (9 by convention; some NICs/tools use 7).</summary>
    public int WolPort { get; set; } = 9;

    /// <summary>Per role: what a spare must have to take it.</summary>
    public Dictionary<string, RoleConstraints> RoleConstraints { get; set; } = [];

    public ReplacementSettings ToSettings(double unreachableAfterSeconds) => new()
    {
        Enabled = ReplacementEnabled,
        ReplaceAfter = TimeSpan.FromSeconds(ReplaceAfterSeconds),
        MaxConcurrent = MaxConcurrentReplacements,
        Cooldown = TimeSpan.FromSeconds(ReplacementCooldownSeconds),
        WakeTimeout = TimeSpan.FromSeconds(WakeTimeoutSeconds),
        WakeInterval = TimeSpan.FromSeconds(WakeIntervalSeconds),
        AwakeWithin = TimeSpan.FromSeconds(unreachableAfterSeconds),
        RebootSpare = ReplacementRebootSpare,
        SpareRole = SpareRole,
        ControlPlaneRoles = ControlPlaneRoleSet,
        Constraints = RoleConstraints,
    };

    public HashSet<string> ControlPlaneRoleSet =>
        ControlPlaneRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
}

/// <summary>Limits of <see cref="ReplacementOptions"/>, all reported at once at start.</summary>
public sealed class ReplacementOptionsValidator : IValidateOptions<ReplacementOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplacementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.ReplaceAfterSeconds is < 0 or > 7 * 86400)
        {
            errors.Add("replaceAfterSeconds (--replace-after-seconds) must be between 0 and 604800");
        }

        if (options.MaxConcurrentReplacements is < 0 or > 1000)
        {
            errors.Add("maxConcurrentReplacements (--max-concurrent-replacements) must be between 0 (none) and 1000");
        }

        if (options.ReplacementCooldownSeconds is < 0 or > 30 * 86400)
        {
            errors.Add("replacementCooldownSeconds (--replacement-cooldown-seconds) must be between 0 and 2592000");
        }

        if (options.WakeTimeoutSeconds is < 10 or > 86400)
        {
            errors.Add("wakeTimeoutSeconds (--wake-timeout-seconds) must be between 10 and 86400");
        }

        if (options.WakeIntervalSeconds is < 1 or > 3600)
        {
            errors.Add("wakeIntervalSeconds (--wake-interval-seconds) must be between 1 and 3600");
        }

        if (!Inventory.Machines.MachineValidator.IsValidRoleName(options.SpareRole))
        {
            errors.Add($"spareRole (--spare-role) '{options.SpareRole}' is not a valid role name");
        }

        foreach (var role in options.ControlPlaneRoleSet.Where(r => !Inventory.Machines.MachineValidator.IsValidRoleName(r)))
        {
            errors.Add($"controlPlaneRoles (--control-plane-roles): '{role}' is not a valid role name");
        }

        if (options.WolBroadcast.Length > 0 && (!IPAddress.TryParse(options.WolBroadcast, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            errors.Add($"wolBroadcast (--wol-broadcast) '{options.WolBroadcast}' is not an IPv4 address");
        }

        if (options.WolPort is < 1 or > 65535)
        {
            errors.Add("wolPort (--wol-port) must be between 1 and 65535");
        }

        foreach (var (role, c) in options.RoleConstraints)
        {
            if (c.MinMemoryBytes is < 0 || c.MinCpuThreads is < 0)
            {
                errors.Add($"roleConstraints.{role}: minimums must not be negative");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
