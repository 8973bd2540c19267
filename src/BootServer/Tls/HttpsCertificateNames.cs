using System.Net;
using NekkoMetal.BootServer.Assets;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Pki;

namespace NekkoMetal.BootServer.Tls;

/// <summary>
/// The names of the boot server's HTTPS certificate: the hosts of its advertised URLs (every local IPv4 address when
/// it listens on all of them), the HTTPS listen host when it is one address, <c>--https-names</c>, the machine's host
/// name, and <c>localhost</c>, 127.0.0.1 and ::1. Asked again at each renewal, so changed addresses are picked up.
/// </summary>
public static class HttpsCertificateNames
{
    public static CertificateProfile Profile(BootServerOptions options, string serverId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hosts = new List<string>();
        hosts.AddRange(ServerIdentity.ResolveUrls(options)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri.Host : null)
            .OfType<string>());
        if (ListenUrl.TryParse(options.HttpsUrl, "https", out var https) && !https!.IsWildcard)
        {
            hosts.Add(https.Host);
        }

        hosts.AddRange(Split(options.HttpsNames));
        hosts.Add(Dns.GetHostName());
        hosts.AddRange(["localhost", "127.0.0.1", "::1"]);

        var dns = new List<string>();
        var ips = new List<IPAddress>();
        foreach (var host in hosts.Select(h => h.Trim('[', ']')).Where(h => h.Length > 0))
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                if (!ips.Contains(ip))
                {
                    ips.Add(ip);
                }
            }
            else if (Uri.CheckHostName(host) == UriHostNameType.Dns && !dns.Contains(host, StringComparer.OrdinalIgnoreCase))
            {
                dns.Add(host);
            }
        }

        return CertificateProfiles.BootServerHttps(serverId, dns, ips, TimeSpan.FromDays(options.HttpsCertificateDays));
    }

    public static IEnumerable<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
