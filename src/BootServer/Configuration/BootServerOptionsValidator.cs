using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Ipam;

namespace NekkoMetal.BootServer.Configuration;

/// <summary>Checks every setting and reports all problems at once, at start.</summary>
public sealed class BootServerOptionsValidator : IValidateOptions<BootServerOptions>
{
    public ValidateOptionsResult Validate(string? name, BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDir) || !Path.IsPathFullyQualified(options.DataDir))
        {
            errors.Add($"dataDir (--data-dir) must be an absolute path, got '{options.DataDir}'");
        }

        if (!Uri.TryCreate(options.HttpUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/")
        {
            errors.Add($"httpUrl (--http-url) must be an absolute http:// or https:// URL with no path, like http://0.0.0.0:8080, got '{options.HttpUrl}'");
        }

        foreach (var e in options.EndpointList)
        {
            if (!Uri.TryCreate(e, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
            {
                errors.Add($"etcdEndpoints (--etcd-endpoints): '{e}' is not an http:// or https:// URL");
            }
        }

        if (string.IsNullOrEmpty(options.EtcdPrefix) || options.EtcdPrefix[0] != '/' || options.EtcdPrefix[^1] != '/')
        {
            errors.Add($"etcdPrefix (--etcd-prefix) must start and end with '/', got '{options.EtcdPrefix}'");
        }

        if (options.EtcdTimeoutSeconds is <= 0 or > 300)
        {
            errors.Add("etcdTimeoutSeconds (--etcd-timeout) must be between 0 and 300 seconds");
        }

        if (options.UsesEmbeddedEtcd)
        {
            if (options.EmbeddedEtcdClientPort is < 1 or > 65535 || options.EmbeddedEtcdPeerPort is < 1 or > 65535 || options.EmbeddedEtcdClientPort == options.EmbeddedEtcdPeerPort)
            {
                errors.Add("embeddedEtcdClientPort and embeddedEtcdPeerPort must be two different ports between 1 and 65535");
            }

            if (!File.Exists(options.EtcdBinary))
            {
                errors.Add($"etcdBinary (--etcd-binary): '{options.EtcdBinary}' does not exist; install Debian's etcd-server package (apt-get install etcd-server) or give --etcd-endpoints");
            }
        }

        if (!IpamValidator.TryParseCidr(options.DefaultSubnet, out _, out _))
        {
            errors.Add($"defaultSubnet (--default-subnet) must be an IPv4 network such as 10.69.0.0/24 (prefix 8-30), got '{options.DefaultSubnet}'");
        }

        if (options.MaxRequestBodyBytes is < 1024 or > 1L << 30)
        {
            errors.Add("maxRequestBodyBytes (--max-request-body-bytes) must be between 1024 and 1073741824");
        }

        foreach (var item in options.DhcpInterfaces.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('=', 2);
            if (parts[0].Length is 0 or > 15 || parts[0].Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or '@')) ||
                (parts.Length == 2 && parts[1] is not ("authoritative" or "proxy")))
            {
                errors.Add($"dhcpInterfaces (--dhcp-interfaces): '{item}' is not 'interface=authoritative' or 'interface=proxy'");
            }
        }

        if (options.TftpPort is < 0 or > 65535)
        {
            errors.Add("tftpPort (--tftp-port) must be between 0 (off) and 65535");
        }

        if (!System.Net.IPAddress.TryParse(options.TftpAddress, out _))
        {
            errors.Add($"tftpAddress (--tftp-address) must be an IP address, got '{options.TftpAddress}'");
        }

        if (options.BootRequestsPerMinute is < 0 or > 1_000_000)
        {
            errors.Add("bootRequestsPerMinute (--boot-requests-per-minute) must be between 0 (no limit) and 1000000");
        }

        if (options.DiscoveryTokenMinutes is < 1 or > 1440)
        {
            errors.Add("discoveryTokenMinutes (--discovery-token-minutes) must be between 1 and 1440");
        }

        if (options.DiscoveryKernelArgs.Any(c => char.IsControl(c)) || options.DiscoveryKernelArgs.Length > 2048)
        {
            errors.Add("discoveryKernelArgs (--discovery-kernel-args) must be one line of at most 2048 characters");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
