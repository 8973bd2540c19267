using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace NekkoMetal.Dhcp.Server;

/// <summary>Checks <see cref="DhcpServerOptions"/> as a whole and reports every error at once.</summary>
public sealed class DhcpServerOptionsValidator : IValidateOptions<DhcpServerOptions>
{
    private static readonly IPAddress SampleServer = IPAddress.Parse("192.0.2.1");

    public ValidateOptionsResult Validate(string? name, DhcpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var interfaces = options.Interfaces ?? [];
        for (var i = 0; i < interfaces.Count; i++)
        {
            var itf = interfaces[i];
            if (itf is null)
            {
                errors.Add($"Dhcp:Interfaces:{i} is empty.");
                continue;
            }

            // IFNAMSIZ is 16 including the NUL.
            if (string.IsNullOrWhiteSpace(itf.Name) || itf.Name.Length > 15 || itf.Name.Contains('/', StringComparison.Ordinal) || itf.Name.Any(char.IsWhiteSpace))
            {
                errors.Add($"Dhcp:Interfaces:{i}:Name must be an interface name of 1 to 15 characters, got '{itf.Name}'.");
            }
            else if (!names.Add(itf.Name))
            {
                errors.Add($"Dhcp:Interfaces:{i}:Name '{itf.Name}' is named twice.");
            }

            if (!Enum.IsDefined(itf.Mode))
            {
                errors.Add($"Dhcp:Interfaces:{i}:Mode must be Proxy or Authoritative.");
            }

            if (itf.Address is { } address && !TryParseUnicastIPv4(address, out _))
            {
                errors.Add($"Dhcp:Interfaces:{i}:Address must be a unicast IPv4 address, got '{address}'.");
            }
        }

        CheckPort(errors, nameof(options.ServerPort), options.ServerPort);
        CheckPort(errors, nameof(options.ClientPort), options.ClientPort);
        CheckPort(errors, nameof(options.ProxyPort), options.ProxyPort);
        CheckPort(errors, nameof(options.RelayAgentPort), options.RelayAgentPort);
        if (options.ProxyPort == options.ServerPort)
        {
            errors.Add("Dhcp:ProxyPort must differ from Dhcp:ServerPort.");
        }

        if (string.IsNullOrEmpty(options.HttpBase)
            || !Uri.TryCreate(DhcpHandler.ExpandHttpBase(options.HttpBase, SampleServer), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add($"Dhcp:HttpBase must be an absolute http:// or https:// URL, {{server}} standing for our address, like http://{{server}}:8080, got '{options.HttpBase}'.");
        }

        if (options.LeaseTime < TimeSpan.FromSeconds(10) && options.LeaseTime != Timeout.InfiniteTimeSpan)
        {
            errors.Add("Dhcp:LeaseTime must be at least 10 seconds.");
        }

        if (options.OfferHoldTime <= TimeSpan.Zero || options.OfferHoldTime > TimeSpan.FromMinutes(10))
        {
            errors.Add("Dhcp:OfferHoldTime must be more than 0 and at most 10 minutes.");
        }

        if (options.DeclineQuarantineTime < TimeSpan.Zero)
        {
            errors.Add("Dhcp:DeclineQuarantineTime must not be negative.");
        }

        if (options.MaxConcurrentRequests is < 1 or > 65536)
        {
            errors.Add("Dhcp:MaxConcurrentRequests must be between 1 and 65536.");
        }

        if (options.RouterAdvertisementInterval < TimeSpan.FromSeconds(4) || options.RouterAdvertisementInterval > TimeSpan.FromMinutes(30))
        {
            errors.Add("Dhcp:RouterAdvertisementInterval must be between 4 seconds and 30 minutes (RFC 4861 §6.2.1).");
        }

        if (options.Limits is null)
        {
            errors.Add("Dhcp:Limits must be set.");
        }

        if (options.Boot is null)
        {
            errors.Add("Dhcp:Boot must be set.");
        }
        else
        {
            CheckFile(errors, nameof(options.Boot.BiosTftpFile), options.Boot.BiosTftpFile);
            CheckFile(errors, nameof(options.Boot.UefiX64TftpFile), options.Boot.UefiX64TftpFile);
            CheckFile(errors, nameof(options.Boot.UefiX64HttpFile), options.Boot.UefiX64HttpFile);
            CheckFile(errors, nameof(options.Boot.Arm64TftpFile), options.Boot.Arm64TftpFile);
            CheckFile(errors, nameof(options.Boot.Arm64HttpFile), options.Boot.Arm64HttpFile);
            CheckFile(errors, nameof(options.Boot.IpxeScriptFile), options.Boot.IpxeScriptFile);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static bool TryParseUnicastIPv4(string text, out IPAddress address)
    {
        if (IPAddress.TryParse(text, out var parsed) && IsUnicastIPv4(parsed))
        {
            address = parsed;
            return true;
        }

        address = IPAddress.None;
        return false;
    }

    /// <summary>IPv4, not 0.0.0.0, not 255.255.255.255, not multicast.</summary>
    internal static bool IsUnicastIPv4(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
        && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.Broadcast) && (address.GetAddressBytes()[0] & 0xF0) != 0xE0;

    private static void CheckPort(List<string> errors, string name, int port)
    {
        if (port is < 1 or > 65535)
        {
            errors.Add($"Dhcp:{name} must be between 1 and 65535, got {port}.");
        }
    }

    private static void CheckFile(List<string> errors, string name, string? file)
    {
        // Option 67 and the BOOTP file field (127 bytes and a NUL) carry it; one byte per char (Latin-1).
        if (string.IsNullOrEmpty(file) || file.Length > 127 || file.Any(c => c is < ' ' or > '\u00ff'))
        {
            errors.Add($"Dhcp:Boot:{name} must be 1 to 127 printable characters, got '{file}'.");
        }
    }
}
