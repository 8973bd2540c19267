using System.Net;
using Microsoft.Extensions.Options;

namespace NekkoMetal.Tftp;

/// <summary>Checks every setting and reports all problems at once, at start.</summary>
public sealed class TftpServerOptionsValidator : IValidateOptions<TftpServerOptions>
{
    public ValidateOptionsResult Validate(string? name, TftpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!IPAddress.TryParse(options.Address, out _))
        {
            errors.Add($"tftp address must be an IPv4 or IPv6 address such as 0.0.0.0, got '{options.Address}'");
        }

        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"tftp port must be between 0 and 65535 (69 is TFTP's), got {options.Port}");
        }

        if (string.IsNullOrWhiteSpace(options.Root) || !Path.IsPathFullyQualified(options.Root))
        {
            errors.Add($"tftp root must be an absolute path, got '{options.Root}'");
        }
        else if (!Directory.Exists(options.Root))
        {
            errors.Add($"tftp root '{options.Root}' is not an existing directory (Debian's ipxe package provides /usr/lib/ipxe)");
        }

        if (options.Limits is null)
        {
            errors.Add("tftp limits must be set");
        }
        else
        {
            errors.AddRange(options.Limits.Validate().Select(e => "tftp " + e));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
