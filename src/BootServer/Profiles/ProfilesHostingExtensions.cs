using NekkoMetal.Inventory.Profiles;

namespace NekkoMetal.BootServer.Profiles;

public static class ProfilesHostingExtensions
{
    /// <summary>The profile renderer and repository.</summary>
    public static IServiceCollection AddProfiles(this IServiceCollection services)
    {
        services.AddSingleton<ProfileRenderer>();
        services.AddSingleton<ProfileRepository>();
        return services;
    }

    /// <summary><c>/api/v1/profiles</c> (token required) and the plain-HTTP <c>/boot/config/{serial}/…</c> paths.</summary>
    public static IEndpointRouteBuilder MapProfiles(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503)
            .MapProfilesApi();
        app.MapConfigEndpoints();
        return app;
    }
}
