using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.Assets;

/// <summary>Checks the asset-store settings at start (reported with every other setting's problems).</summary>
public sealed class AssetOptionsValidator : IValidateOptions<BootServerOptions>
{
    public ValidateOptionsResult Validate(string? name, BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxAssetBytes is < 1 or > 1L << 40)
        {
            errors.Add("maxAssetBytes (--max-asset-bytes) must be between 1 and 1099511627776 (1 TiB)");
        }

        if (options.ServerId.Length > 0 && !ServerIdentity.IdPattern().IsMatch(options.ServerId))
        {
            errors.Add($"serverId (--server-id) must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit, got '{options.ServerId}'");
        }

        foreach (var url in options.AdvertiseUrls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || u.AbsolutePath != "/")
            {
                errors.Add($"advertiseUrls (--advertise-urls): '{url}' is not an http:// or https:// URL without a path");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
