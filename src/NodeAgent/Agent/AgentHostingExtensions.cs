using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Actions;
using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Enrolment;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Heartbeat;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Agent;

internal static class AgentHostingExtensions
{
    /// <summary>
    /// Registers the agent: options (section <c>agent</c>, validated at start), the host reader, the fact collector,
    /// every health check, the runner, the logging heartbeat sink unless another <see cref="IHeartbeatSink"/> is
    /// registered, and the loop (<see cref="AgentService"/>).
    /// </summary>
    public static IHostApplicationBuilder AddNodeAgent(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICommandRunner>(sp => new CommandRunner(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new HostRoot(Options(sp).HostRoot));
        services.TryAddSingleton(sp => new FactCollector(sp.GetRequiredService<HostRoot>(), sp.GetRequiredService<ICommandRunner>()));
        services.TryAddSingleton<LogHeartbeatSink>();
        services.TryAddSingleton<ILocalActions>(sp => new LocalActions(
            sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<ICommandRunner>(), sp.GetRequiredService<ILogger<LocalActions>>()));
        services.TryAddSingleton<IClientCertificateSource>(sp => new AgentCredentials(
            sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AgentCredentials>>()));
        services.TryAddSingleton<IHeartbeatSink>(sp => Options(sp).BootServers.Count > 0
            ? new HttpHeartbeatSink(
                sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<IClientCertificateSource>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<HttpHeartbeatSink>>(), sp.GetRequiredService<ILocalActions>())
            : sp.GetRequiredService<LogHeartbeatSink>());

        services.AddSingleton<IHealthCheck>(sp => new FilesystemCheck(sp.GetRequiredService<HostRoot>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new MemoryPressureCheck(sp.GetRequiredService<HostRoot>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new DiskKernelLogCheck(sp.GetRequiredService<HostRoot>(), sp.GetRequiredService<ICommandRunner>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new SmartCheck(sp.GetRequiredService<HostRoot>(), sp.GetRequiredService<ICommandRunner>()));
        services.AddSingleton<IHealthCheck>(sp => new NicLinkCheck(sp.GetRequiredService<HostRoot>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new CpuTemperatureCheck(sp.GetRequiredService<HostRoot>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new PowerSupplyCheck(sp.GetRequiredService<HostRoot>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp => new SystemdUnitsCheck(sp.GetRequiredService<ICommandRunner>(), Options(sp).Thresholds));
        services.AddSingleton<IHealthCheck>(sp =>
        {
            var o = Options(sp);
            return new KubeletCheck(sp.GetRequiredService<HostRoot>(), new HttpClient { Timeout = o.KubeletTimeout }, new Uri(o.KubeletHealthzUrl));
        });
        services.AddSingleton<IHealthCheck>(sp => new ScriptChecks(Options(sp).ChecksDirectory, Options(sp).ScriptTimeout, sp.GetRequiredService<ICommandRunner>()));

        services.TryAddSingleton<HealthCheckRunner>();
        services.AddHostedService<AgentService>();
        return builder;
    }

    private static AgentOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<AgentOptions>>().Value;
}
