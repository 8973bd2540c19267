using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Health;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// Settings of heartbeats, the state setter and its leader election. Bound from the same configuration as
/// <see cref="Configuration.BootServerOptions"/> (config file keys, <c>NEKKO_*</c> environment and flags listed in
/// <see cref="Configuration.BootServerSettings"/>).
/// </summary>
public sealed class HealthOptions
{
    /// <summary>No heartbeat for this long → unreachable.</summary>
    public double UnreachableAfterSeconds { get; set; } = 90;

    /// <summary>A critical check failing without a break for this long → unhealthy.</summary>
    public double UnhealthyAfterSeconds { get; set; } = 60;

    /// <summary>How often the leading boot server sweeps heartbeats into states.</summary>
    public double StateSweepSeconds { get; set; } = 5;

    /// <summary>TTL of the leader-election lease: how long a dead leader's controllers stay without a successor at most.</summary>
    public double LeaderLeaseSeconds { get; set; } = 10;

    public StateSetterSettings ToSettings() => new()
    {
        UnreachableAfter = TimeSpan.FromSeconds(UnreachableAfterSeconds),
        UnhealthyAfter = TimeSpan.FromSeconds(UnhealthyAfterSeconds),
        SweepInterval = TimeSpan.FromSeconds(StateSweepSeconds),
    };
}

/// <summary>Limits of <see cref="HealthOptions"/>, all reported at once at start.</summary>
public sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.StateSweepSeconds is < 1 or > 300)
        {
            errors.Add("stateSweepSeconds (--state-sweep-seconds) must be between 1 and 300");
        }

        if (options.LeaderLeaseSeconds is < 3 or > 300)
        {
            errors.Add("leaderLeaseSeconds (--leader-lease-seconds) must be between 3 and 300 (etcd grants at least about 3 s)");
        }

        if (options.UnreachableAfterSeconds is < 10 or > 86400)
        {
            errors.Add("unreachableAfterSeconds (--unreachable-after-seconds) must be between 10 and 86400");
        }
        else if (options.UnreachableAfterSeconds < 2 * options.StateSweepSeconds)
        {
            errors.Add("unreachableAfterSeconds (--unreachable-after-seconds) must be at least twice stateSweepSeconds, or a sweep could miss the whole window");
        }

        if (options.UnhealthyAfterSeconds is < 0 or > 86400)
        {
            errors.Add("unhealthyAfterSeconds (--unhealthy-after-seconds) must be between 0 (no grace) and 86400");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
