using System.Net;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.Tls;

/// <summary>The listen URLs, certificate names and lifetime, and the Vault settings; every problem at once.</summary>
public sealed class TlsOptionsValidator : IValidateOptions<BootServerOptions>
{
    public ValidateOptionsResult Validate(string? name, BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!ListenUrl.TryParse(options.HttpsUrl, "https", out var https))
        {
            errors.Add($"httpsUrl (--https-url) must be an https:// URL with an address and no path, like https://0.0.0.0:8443, got '{options.HttpsUrl}'");
        }

        // --http-url's general shape is checked by BootServerOptionsValidator; here only that Kestrel can listen on it.
        if (Uri.TryCreate(options.HttpUrl, UriKind.Absolute, out var u) && u.Scheme == "https")
        {
            errors.Add("httpUrl (--http-url) is the plain-HTTP listener (firmware cannot do our TLS): use http://, and --https-url for HTTPS");
        }
        else if (ListenUrl.TryParse(options.HttpUrl, "http", out var http) && https is not null && http!.Overlaps(https))
        {
            errors.Add($"httpsUrl (--https-url) and httpUrl (--http-url) cannot share port {https.Port}");
        }

        foreach (var n in HttpsCertificateNames.Split(options.HttpsNames))
        {
            if (!IPAddress.TryParse(n, out _) && Uri.CheckHostName(n) != UriHostNameType.Dns)
            {
                errors.Add($"httpsNames (--https-names): '{n}' is neither an IP address nor a DNS name");
            }
        }

        if (options.HttpsCertificateDays is < 0.05 or > 825)
        {
            errors.Add("httpsCertificateDays (--https-certificate-days) must be between 0.05 (72 minutes) and 825");
        }

        errors.AddRange(VaultSettings.Validate(options));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
