using System.Globalization;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.BootServer.Dhcp;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Dhcp.Transport;
using NekkoMetal.Tftp;
using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Transport;

namespace NekkoMetal.BootServer.Network;

/// <summary>
/// Hosts the UDP boot protocols when they are configured: TFTP (on unless its port is 0) and DHCP (off unless
/// interfaces are named). The decision is made at start from the validated settings, so every way of
/// configuring the boot server (flags, environment, file, test hosts) is honoured.
/// </summary>
public sealed partial class BootProtocols(IServiceProvider services, IOptions<BootServerOptions> options, ILogger<BootProtocols> logger) : IHostedService
{
    private readonly ILogger<BootProtocols> _logger = logger;
    private TftpServer? _tftp;
    private DhcpServer? _dhcp;

    public TftpServer? Tftp => _tftp;

    public DhcpServer? Dhcp => _dhcp;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.UsesOwnBootFiles)
        {
            var copied = Boot.IpxeBinaries.Sync(o.IpxeDir, o.EffectiveTftpRoot);
            LogBootFiles(o.EffectiveTftpRoot, o.IpxeDir, copied.Count);
        }

        if (o.TftpPort != 0)
        {
            var validation = new TftpServerOptionsValidator().Validate(null, services.GetRequiredService<IOptions<TftpServerOptions>>().Value);
            if (validation.Failed)
            {
                throw new OptionsValidationException("tftp", typeof(TftpServerOptions), validation.Failures);
            }

            _tftp = services.GetRequiredService<TftpServer>();
            await _tftp.StartAsync(cancellationToken);
        }
        else
        {
            LogTftpOff();
        }

        var dhcpOptions = services.GetRequiredService<IOptions<DhcpServerOptions>>().Value;
        var dhcpValidation = new DhcpServerOptionsValidator().Validate(null, dhcpOptions);
        if (dhcpValidation.Failed)
        {
            throw new OptionsValidationException("dhcp", typeof(DhcpServerOptions), dhcpValidation.Failures);
        }

        _dhcp = services.GetRequiredService<DhcpServer>(); // says in the log which mode runs where, or that DHCP is off
        await _dhcp.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_dhcp is not null)
        {
            await _dhcp.StopAsync(cancellationToken);
        }

        if (_tftp is not null)
        {
            await _tftp.StopAsync(cancellationToken);
        }
    }

    /// <summary>The DHCP server's options from the boot server's settings.</summary>
    public static DhcpServerOptions DhcpOptionsFrom(BootServerOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var port = Uri.TryCreate(o.HttpUrl, UriKind.Absolute, out var url) ? url.Port : 8080;
        var interfaces = o.DhcpInterfaces.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.Split('=', 2))
            .Select(parts => new DhcpInterfaceOptions
            {
                Name = parts[0],
                Mode = parts.Length == 2 && parts[1] == "authoritative" ? DhcpMode.Authoritative : DhcpMode.Proxy,
                RouterAdvertisements = o.DhcpRouterAdvertisements,
            })
            .ToList();
        return new DhcpServerOptions
        {
            Interfaces = interfaces,
            HttpBase = $"{url?.Scheme ?? "http"}://{{server}}:{port.ToString(CultureInfo.InvariantCulture)}",
            ChainIpxe = o.DhcpChainIpxe,
        };
    }

    internal static void Register(IServiceCollection services)
    {
        services.AddSingleton<IOptions<DhcpServerOptions>>(sp => Options.Create(DhcpOptionsFrom(sp.GetRequiredService<IOptions<BootServerOptions>>().Value)));
        services.AddSingleton<IDhcpLeaseStore, EtcdDhcpLeaseStore>();
        services.AddSingleton<IBootProgressSink, BootProgressSink>();
        services.AddSingleton<DhcpMetrics>();
        services.AddSingleton(sp => new DhcpHandler(
            sp.GetRequiredService<IOptions<DhcpServerOptions>>(), sp.GetRequiredService<ILogger<DhcpHandler>>(),
            sp.GetRequiredService<IDhcpLeaseStore>(), sp.GetRequiredService<IBootProgressSink>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DhcpServer>();

        services.AddOptions<TftpServerOptions>().Configure<IOptions<BootServerOptions>>((t, b) =>
        {
            t.Address = b.Value.TftpAddress;
            t.Port = b.Value.TftpPort;
            t.Root = b.Value.EffectiveTftpRoot;
        });
        services.AddSingleton<ITftpFileSource>(sp => new DirectoryFileSource(sp.GetRequiredService<IOptions<TftpServerOptions>>().Value.Root));
        services.AddSingleton<ITftpTransferObserver, TftpBootProgress>();
        services.AddSingleton<TftpServer>();
        services.AddSingleton<BootProtocols>();
        services.AddHostedService(sp => sp.GetRequiredService<BootProtocols>());
    }

    [LoggerMessage(EventIds.BootFiles, LogLevel.Information, "Boot files in {Root} (iPXE binaries from {Source}, {Copied} updated)")]
    private partial void LogBootFiles(string root, string source, int copied);

    [LoggerMessage(EventIds.TftpOff, LogLevel.Information, "TFTP is off (--tftp-port 0)")]
    private partial void LogTftpOff();
}
