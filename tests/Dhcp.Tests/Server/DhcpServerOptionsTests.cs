using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

public class DhcpServerOptionsTests
{
    private static readonly DhcpServerOptionsValidator Validator = new();

    [Fact]
    public void Defaults_are_valid_and_dhcp_is_off()
    {
        var options = new DhcpServerOptions();

        Assert.True(Validator.Validate(null, options).Succeeded);
        Assert.Empty(options.Interfaces);
        Assert.Equal(DhcpMode.Proxy, new DhcpInterfaceOptions().Mode);
        Assert.False(new DhcpInterfaceOptions().RouterAdvertisements);
        Assert.Equal((67, 68, 4011, 67), (options.ServerPort, options.ClientPort, options.ProxyPort, options.RelayAgentPort));
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var options = new DhcpServerOptions
        {
            Interfaces =
            [
                new DhcpInterfaceOptions { Name = "br0", Address = "not-an-address" },
                new DhcpInterfaceOptions { Name = "br0" },
                new DhcpInterfaceOptions { Name = "" },
                new DhcpInterfaceOptions { Name = "eth1", Address = "224.0.0.1" },
            ],
            ServerPort = 0,
            ProxyPort = 70000,
            HttpBase = "ftp://{server}",
            LeaseTime = TimeSpan.FromSeconds(1),
            OfferHoldTime = TimeSpan.Zero,
            MaxConcurrentRequests = 0,
            Boot = new Boot.BootDecisionOptions { BiosTftpFile = "" },
        };

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(11, failures.Count);
        Assert.Contains(failures, f => f.Contains("Interfaces:0:Address", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("named twice", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Interfaces:2:Name", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Interfaces:3:Address", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("HttpBase", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BiosTftpFile", StringComparison.Ordinal));
    }

    [Fact]
    public void Binds_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Dhcp:Interfaces:0:Name"] = "br0",
            ["Dhcp:Interfaces:0:Mode"] = "Authoritative",
            ["Dhcp:Interfaces:0:Address"] = "10.214.0.1",
            ["Dhcp:Interfaces:0:RouterAdvertisements"] = "true",
            ["Dhcp:Interfaces:1:Name"] = "eth1",
            ["Dhcp:ServerPort"] = "1067",
            ["Dhcp:HttpBase"] = "http://{server}:9090",
            ["Dhcp:LeaseTime"] = "02:00:00",
            ["Dhcp:Limits:MaxDatagramSize"] = "1400",
            ["Dhcp:Boot:IpxeScriptFile"] = "chain.ipxe",
        }).Build();
        var services = new ServiceCollection();
        services.AddOptions<DhcpServerOptions>().Bind(configuration.GetSection("Dhcp"));

        var options = services.BuildServiceProvider().GetRequiredService<IOptions<DhcpServerOptions>>().Value;

        Assert.Equal(2, options.Interfaces.Count);
        Assert.Equal(new DhcpInterfaceOptions { Name = "br0", Mode = DhcpMode.Authoritative, Address = "10.214.0.1", RouterAdvertisements = true }, options.Interfaces[0]);
        Assert.Equal(new DhcpInterfaceOptions { Name = "eth1", Mode = DhcpMode.Proxy }, options.Interfaces[1]);
        Assert.Equal(1067, options.ServerPort);
        Assert.Equal("http://{server}:9090", options.HttpBase);
        Assert.Equal(TimeSpan.FromHours(2), options.LeaseTime);
        Assert.Equal(1400, options.Limits.MaxDatagramSize);
        Assert.Equal("chain.ipxe", options.Boot.IpxeScriptFile);
        Assert.Equal("ipxe.efi", options.Boot.UefiX64TftpFile);
        Assert.True(Validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public async Task The_host_refuses_to_start_with_invalid_options()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Dhcp:Interfaces:0:Name"] = "", ["Dhcp:ServerPort"] = "0" });
        builder.AddDhcpServer();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(2, error.Failures.Count());
    }
}
