using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Inventory.Storage;
using Quartz;

namespace NekkoMetal.BootServer.Agents;

public static class AgentsHostingExtensions
{
    /// <summary>The name under <c>leaders/</c> the boot servers elect their controllers' leader by (state setter; later the replacement controller).</summary>
    public const string ControllersLeadership = "controllers";

    /// <summary>
    /// Agent enrolment (bootstrap token + CSR → client certificate) and mTLS authentication, heartbeats, the controllers' leader election and the state setter's Quartz sweep. Needs the inventory and the
    /// boot-server registry (its server id is the candidate id). The Quartz scheduler is the host's one
    /// (<c>AddQuartz</c> merges every registration; <c>AddQuartzHostedService</c> is added once by the host).
    /// </summary>
    public static IServiceCollection AddAgents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>();
        services.AddSingleton<HealthRepository>();
        services.AddOptions<AgentEnrolmentOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentEnrolmentOptions>, AgentEnrolmentOptionsValidator>();
        services.AddSingleton<AgentCertificateAuthenticator>();
        services.AddSingleton(sp => new LeaderElector(
            sp.GetRequiredService<EtcdStore>(),
            new LeaderElectionOptions
            {
                Name = ControllersLeadership,
                CandidateId = sp.GetRequiredService<ServerRegistryOptions>().ServerId,
                LeaseTtl = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<HealthOptions>>().Value.LeaderLeaseSeconds),
            },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LeaderElector>>()));
        services.AddSingleton<ILeadership>(sp => sp.GetRequiredService<LeaderElector>());
        services.AddHostedService(sp => sp.GetRequiredService<LeaderElector>());
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<HealthOptions>>().Value.ToSettings());
        services.AddSingleton<StateSetter>();
        services.AddQuartz(q => q.ScheduleLeaderSweep<StateSetter>("state-setter"));
        return services;
    }

    /// <summary>The agent API (its own authentication) and the health view of the admin API (token required).</summary>
    public static IEndpointRouteBuilder MapAgents(this IEndpointRouteBuilder app)
    {
        app.MapAgentApi();
        app.MapGroup("/api/v1").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503)
            .MapHealthApi();
        return app;
    }
}
