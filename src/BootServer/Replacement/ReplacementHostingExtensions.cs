using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Replacement;
using Quartz;

namespace NekkoMetal.BootServer.Replacement;

public static class ReplacementHostingExtensions
{
    /// <summary>
    /// The replacement controller: its options, Wake-on-LAN sender and Quartz sweep, led by the controllers' leader
    /// (<see cref="AgentsHostingExtensions.ControllersLeadership"/>, registered by <c>AddAgents</c>, which must come first).
    /// </summary>
    public static IServiceCollection AddReplacement(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReplacementOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReplacementOptions>, ReplacementOptionsValidator>();
        services.AddSingleton<ReplacementRepository>();
        services.AddSingleton<IWakeOnLan, UdpWakeOnLan>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ReplacementOptions>>().Value
            .ToSettings(sp.GetRequiredService<IOptions<HealthOptions>>().Value.UnreachableAfterSeconds));
        services.AddSingleton<ReplacementController>();
        services.AddQuartz(q => q.ScheduleLeaderSweep<ReplacementController>("replacement-controller"));
        return services;
    }

    /// <summary><c>GET /api/v1/replacements</c> (read token).</summary>
    public static IEndpointRouteBuilder MapReplacements(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/replacements").WithTags("Replacements").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503)
            .MapGet("", List).WithName("ListReplacements")
            .WithSummary("Automatic replacements of failed machines by spares (in progress and completed ones kept for a while), the controller's limits, and — on the leading boot server — what is held back and why");
        return app;
    }

    public sealed record ReplacementsView(
        IReadOnlyList<MachineReplacement> Replacements,
        IReadOnlyList<HeldReplacement> Held,
        bool Leader,
        ReplacementLimits Limits);

    public sealed record ReplacementLimits(
        bool Enabled, double ReplaceAfterSeconds, int MaxConcurrent, double CooldownSeconds, double WakeTimeoutSeconds,
        double WakeIntervalSeconds, string SpareRole, IReadOnlyList<string> ControlPlaneRoles);

    private static async Task<Ok<ReplacementsView>> List(ReplacementRepository replacements, ReplacementController controller, ILeadership leadership, CancellationToken ct)
    {
        var s = controller.Settings;
        var list = (await replacements.ListAsync(ct)).OrderByDescending(r => r.StartedAt).ToList();
        return TypedResults.Ok(new ReplacementsView((IReadOnlyList<MachineReplacement>)list, leadership.IsLeader ? controller.LastHeld : [], leadership.IsLeader,
            new ReplacementLimits(s.Enabled, s.ReplaceAfter.TotalSeconds, s.MaxConcurrent, s.Cooldown.TotalSeconds, s.WakeTimeout.TotalSeconds,
                s.WakeInterval.TotalSeconds, s.SpareRole, [.. s.ControlPlaneRoles.Order(StringComparer.Ordinal)])));
    }
}
