using Microsoft.Extensions.Options;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>Checks every setting and reports all problems at once, at start.</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var url in options.BootServers ?? [])
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add($"agent bootServers: each must be an absolute http(s) URL such as https://boot1:8443, got '{url}'");
            }
        }

        if (string.IsNullOrWhiteSpace(options.TokenFile) || !Path.IsPathFullyQualified(options.TokenFile))
        {
            errors.Add($"agent tokenFile must be an absolute path, got '{options.TokenFile}'");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory) || !Path.IsPathFullyQualified(options.StateDirectory))
        {
            errors.Add($"agent stateDirectory must be an absolute path, got '{options.StateDirectory}'");
        }

        if (options.CaFile is { } caFile && (caFile.Length == 0 || !Path.IsPathFullyQualified(caFile)))
        {
            errors.Add($"agent caFile must be an absolute path when set, got '{caFile}'");
        }

        if (options.HeartbeatTimeout <= TimeSpan.Zero || options.HeartbeatTimeout > options.Interval)
        {
            errors.Add($"agent heartbeatTimeout must be positive and at most the interval ({options.Interval}), got {options.HeartbeatTimeout}");
        }

        if (options.Serial is { } serial && string.IsNullOrWhiteSpace(serial))
        {
            errors.Add("agent serial must not be blank when set");
        }

        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromHours(1))
        {
            errors.Add($"agent interval must be between 00:00:01 and 01:00:00, got {options.Interval}");
        }

        if (options.ScriptTimeout <= TimeSpan.Zero || options.ScriptTimeout > options.Interval)
        {
            errors.Add($"agent scriptTimeout must be positive and at most the interval ({options.Interval}), got {options.ScriptTimeout}");
        }

        if (options.KubeletTimeout <= TimeSpan.Zero || options.KubeletTimeout > options.Interval)
        {
            errors.Add($"agent kubeletTimeout must be positive and at most the interval ({options.Interval}), got {options.KubeletTimeout}");
        }

        if (string.IsNullOrWhiteSpace(options.ChecksDirectory) || !Path.IsPathFullyQualified(options.ChecksDirectory))
        {
            errors.Add($"agent checksDirectory must be an absolute path, got '{options.ChecksDirectory}'");
        }

        if (!Uri.TryCreate(options.KubeletHealthzUrl, UriKind.Absolute, out var healthz) || (healthz.Scheme != Uri.UriSchemeHttp && healthz.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"agent kubeletHealthzUrl must be an absolute http(s) URL, got '{options.KubeletHealthzUrl}'");
        }

        if (string.IsNullOrWhiteSpace(options.HostRoot) || !Directory.Exists(options.HostRoot))
        {
            errors.Add($"agent hostRoot must be an existing directory (\"/\" on a node), got '{options.HostRoot}'");
        }

        if (options.Thresholds is null)
        {
            errors.Add("agent thresholds must be set");
        }
        else
        {
            errors.AddRange(options.Thresholds.Validate().Select(e => "agent " + e));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
