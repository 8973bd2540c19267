using NekkoMetal.Inventory.Profiles;

namespace NekkoMetal.BootServer.Profiles;

public static class ProfilesHostingExtensions
{
    /// <summary>The profile renderer and repository.</summary>
    public static IServiceCollection AddProfiles(this IServiceCollection services)
    {
        services.AddSingleton<ProfileRenderer>();
        services.AddSingleton<ProfileRepository>();
        services.AddSingleton<InstallScript>();
        return services;
    }

    /// <summary>
    /// <c>/api/v1/profiles</c> and <c>/api/v1/machines/{serial}/install|reinstall</c> (token required), the plain-HTTP
    /// <c>/boot/config/{serial}/…</c> paths and the install report.
    /// </summary>
    public static IEndpointRouteBuilder MapProfiles(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503)
            .MapProfilesApi()
            .MapInstallsApi();
        app.MapConfigEndpoints();
        app.MapInstallReport();
        return app;
    }
}
