using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// This boot server's id and the URLs its peers reach it at. The id is <c>--server-id</c>, or the one kept in
/// DATA_DIR/server-id (created on first start from the host name and a random suffix, so it survives restarts).
/// The URLs are <c>--advertise-urls</c>, or <c>--http-url</c> when it names a host, or one URL per up, non-loopback
/// IPv4 address when it listens on every address.
/// </summary>
public static partial class ServerIdentity
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    public static partial Regex IdPattern();

    public static string ResolveId(BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ServerId.Length > 0)
        {
            return options.ServerId;
        }

        var file = Path.Combine(options.DataDir, "server-id");
        if (File.Exists(file) && File.ReadAllText(file).Trim() is { } saved && IdPattern().IsMatch(saved))
        {
            return saved;
        }

        var host = new string(Dns.GetHostName().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').Take(40).ToArray());
        var id = (host.Length > 0 && char.IsAsciiLetterOrDigit(host[0]) ? host : "bootserver") + "-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(options.DataDir);
        File.WriteAllText(file, id + "\n");
        return id;
    }

    public static IReadOnlyList<string> ResolveUrls(BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var given = options.AdvertiseUrls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (given.Length > 0)
        {
            return given.Select(u => u.TrimEnd('/')).ToList();
        }

        if (!Uri.TryCreate(options.HttpUrl, UriKind.Absolute, out var listen))
        {
            return [];
        }

        if (listen.Host is not ("0.0.0.0" or "[::]" or "::" or "*" or "+"))
        {
            return [$"{listen.Scheme}://{listen.Authority}"];
        }

        var addresses = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            .Select(a => a.ToString())
            .Distinct()
            .ToList();
        return addresses.Count == 0
            ? [$"{listen.Scheme}://127.0.0.1:{listen.Port}"]
            : addresses.Select(a => $"{listen.Scheme}://{a}:{listen.Port}").ToList();
    }
}
