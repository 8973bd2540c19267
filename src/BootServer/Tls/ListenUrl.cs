using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace NekkoMetal.BootServer.Tls;

/// <summary>
/// A listen URL (<c>--http-url</c>, <c>--https-url</c>) as a Kestrel endpoint: <c>0.0.0.0</c> every IPv4 address,
/// <c>[::]</c> every IPv6 address, <c>*</c> or <c>+</c> both, <c>localhost</c> both loopbacks, an IP literal, or a
/// host name (every address, as Kestrel does for a name in a URL; the name still goes into the certificate).
/// </summary>
public sealed record ListenUrl(string Scheme, string Host, int Port)
{
    public static bool TryParse(string text, string scheme, out ListenUrl? url)
    {
        url = null;
        ArgumentNullException.ThrowIfNull(text);
        var wildcard = text.StartsWith(scheme + "://*:", StringComparison.Ordinal) || text.StartsWith(scheme + "://+:", StringComparison.Ordinal);
        var parsable = wildcard ? string.Concat(scheme, "://0.0.0.0", text.AsSpan(scheme.Length + 4)) : text;
        if (!Uri.TryCreate(parsable, UriKind.Absolute, out var uri) || uri.Scheme != scheme || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            return false;
        }

        var host = text[(scheme.Length + 3)..].Split('/')[0];
        host = host.StartsWith('[') ? host[..(host.IndexOf(']', StringComparison.Ordinal) + 1)] : host.Split(':')[0];
        if (host.Length == 0 || (host is not ("*" or "+") && !IPAddress.TryParse(host.Trim('[', ']'), out _) && Uri.CheckHostName(host) != UriHostNameType.Dns))
        {
            return false;
        }

        url = new ListenUrl(scheme, host, uri.Port);
        return true;
    }

    public static ListenUrl Parse(string text, string scheme) =>
        TryParse(text, scheme, out var url) ? url! : throw new FormatException($"'{text}' is not a {scheme}:// listen URL");

    /// <summary>True when both listen on one port of an address they share (Kestrel could not bind the second).</summary>
    public bool Overlaps(ListenUrl other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Port == other.Port && Port != 0 && (IsWildcard || other.IsWildcard || string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>True when it listens on every address (the advertised names come from the interfaces).</summary>
    public bool IsWildcard => Host is "*" or "+" or "0.0.0.0" or "[::]";

    public void Listen(KestrelServerOptions kestrel, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        switch (Host)
        {
            case "localhost":
                kestrel.ListenLocalhost(Port, configure);
                break;
            case var h when IPAddress.TryParse(h.Trim('[', ']'), out var ip):
                kestrel.Listen(ip, Port, configure);
                break;
            default:
                kestrel.ListenAnyIP(Port, configure);
                break;
        }
    }
}
