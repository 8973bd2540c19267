using Microsoft.Extensions.Options;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// Settings of agent enrolment: how long an agent bootstrap token may wait to be traded for a certificate, and how
/// long an agent client certificate lives (the agent renews at two thirds of it). Bound from the same configuration
/// as <see cref="Configuration.BootServerOptions"/> (flags in <see cref="Configuration.BootServerSettings"/>).
/// </summary>
public sealed class AgentEnrolmentOptions
{
    /// <summary>Lifetime of an agent bootstrap token minted into a machine's rendered configuration (default 24 h).</summary>
    public double BootstrapTokenTtlMinutes { get; set; } = 24 * 60;

    /// <summary>Requested lifetime of an agent client certificate (default 30 days; the CA clamps it to its own).</summary>
    public double AgentCertificateDays { get; set; } = 30;

    public TimeSpan BootstrapTokenTtl => TimeSpan.FromMinutes(BootstrapTokenTtlMinutes);

    public TimeSpan AgentCertificateLifetime => TimeSpan.FromDays(AgentCertificateDays);
}

/// <summary>Limits of <see cref="AgentEnrolmentOptions"/>, all reported at once at start.</summary>
public sealed class AgentEnrolmentOptionsValidator : IValidateOptions<AgentEnrolmentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentEnrolmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (double.IsNaN(options.BootstrapTokenTtlMinutes) || options.BootstrapTokenTtlMinutes is < 1 or > 30 * 24 * 60)
        {
            errors.Add("bootstrapTokenTtlMinutes (--bootstrap-token-ttl-minutes) must be between 1 and 43200 (30 days)");
        }

        // Down to a minute so tests can watch a certificate expire and be renewed; days in production.
        if (double.IsNaN(options.AgentCertificateDays) || options.AgentCertificateDays is < 1.0 / 1440 or > 825)
        {
            errors.Add("agentCertificateDays (--agent-certificate-days) must be between 1/1440 (one minute) and 825");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
