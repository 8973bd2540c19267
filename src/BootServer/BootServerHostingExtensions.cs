using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Assets;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.BootServer.Boot;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.BootServer.Health;
using NekkoMetal.BootServer.Kube;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.BootServer.Replacement;
using NekkoMetal.BootServer.Startup;
using NekkoMetal.BootServer.Tls;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using Quartz;
using Scalar.AspNetCore;

namespace NekkoMetal.BootServer;

public static class BootServerHostingExtensions
{
    /// <summary>Options, embedded etcd, inventory, bootstrap, auth, problem details and OpenAPI.</summary>
    public static WebApplicationBuilder AddBootServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BootServerOptions>().Bind(builder.Configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BootServerOptions>, BootServerOptionsValidator>();

        // Hosted services start in this order: etcd first (when embedded), then the cache, then the bootstrapper.
        services.AddSingleton<EmbeddedEtcd.EmbeddedEtcd>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedEtcd.EmbeddedEtcd>());
        services.AddInventory(sp =>
        {
            var o = sp.GetRequiredService<IOptions<BootServerOptions>>().Value;
            return new InventoryOptions
            {
                Endpoints = o.UsesEmbeddedEtcd ? [sp.GetRequiredService<EmbeddedEtcd.EmbeddedEtcd>().ClientUrl] : o.EndpointList,
                Prefix = o.EtcdPrefix,
                RequestTimeout = TimeSpan.FromSeconds(o.EtcdTimeoutSeconds),
                DefaultSubnet = o.DefaultSubnet,
            };
        });
        services.AddSingleton<InventoryBootstrapper>();
        services.AddHostedService(sp => sp.GetRequiredService<InventoryBootstrapper>());

        services.AddAssets();
        services.AddProfiles();
        services.AddAgents(builder.Configuration);
        services.AddReplacement(builder.Configuration);
        services.AddKubeInstaller(builder.Configuration);
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true); // once, for every Quartz job of the host
        services.AddSingleton<Boot.IpxeScripts>();
        services.AddBootRateLimiting();
        Network.BootProtocols.Register(services);
        services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Read, p => p.RequireRole(Roles.Admin, Roles.Viewer))
            .AddPolicy(Policies.Write, p => p.RequireRole(Roles.Admin));

        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemMapping>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = InventoryJson.Options.DefaultIgnoreCondition;
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<BootServerOptions>>((k, o) =>
        {
            k.Limits.MaxRequestBodySize = o.Value.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        services.AddBootServerTls(); // the listeners (plain HTTP for firmware, HTTPS for the API) and their certificate

        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info = new OpenApiInfo { Title = "NekkoMetal admin API", Version = "v1" };
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API token: the admin token is in DATA_DIR/admin.token; more with 'nekkoctl tokens create'",
            };
            doc.Security ??= [];
            doc.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", doc)] = [] });
            return Task.CompletedTask;
        }));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error); // keys are unused: no cookies, no antiforgery
        return builder;
    }

    /// <summary>Middleware and endpoints: health, OpenAPI document and API reference page, admin API.</summary>
    public static WebApplication MapBootServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBootServerTls();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapHealth();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/api-docs", o => o.WithTitle("NekkoMetal admin API")).AllowAnonymous();
        app.MapGet("/", () => TypedResults.Text("NekkoMetal boot server. Admin API: /api/v1 (token required); reference: /api-docs; OpenAPI: /openapi/v1.json\n"))
            .ExcludeFromDescription();
        app.MapAdminApi();
        app.MapDiscoveryApi();
        app.MapBootEndpoints();
        app.MapAssets();
        app.MapProfiles();
        app.MapAgents();
        app.MapReplacements();
        app.MapKubeInstaller();
        app.MapPkiApi();
        return app;
    }
}
