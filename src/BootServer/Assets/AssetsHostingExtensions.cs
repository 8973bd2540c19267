using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Servers;

namespace NekkoMetal.BootServer.Assets;

public static class AssetsHostingExtensions
{
    /// <summary>The boot-server registry, the asset catalog and repository, the content on disk and the replicator.</summary>
    public static IServiceCollection AddAssets(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<BootServerOptions>, AssetOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<BootServerOptions>>().Value;
            return new ServerRegistryOptions { ServerId = ServerIdentity.ResolveId(o), Urls = ServerIdentity.ResolveUrls(o) };
        });
        services.AddSingleton<ServerRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerRegistry>());
        services.AddSingleton<AssetCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<AssetCatalog>());
        services.AddSingleton<AssetRepository>();
        services.AddSingleton(sp => new AssetFiles(Path.Combine(sp.GetRequiredService<IOptions<BootServerOptions>>().Value.DataDir, "assets")));
        services.AddSingleton<AssetReplicator>();
        services.AddHostedService(sp => sp.GetRequiredService<AssetReplicator>());
        return services;
    }

    /// <summary><c>/api/v1/assets</c> (token required) and the plain-HTTP asset paths.</summary>
    public static IEndpointRouteBuilder MapAssets(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503)
            .MapAssetsApi();
        app.MapAssetEndpoints();
        return app;
    }
}
