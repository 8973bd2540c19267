using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;

namespace NekkoMetal.BootServer.Kube;

public static class KubeHostingExtensions
{
    /// <summary>
    /// The Kubernetes installer: its options (validated at start), the definition store, the backup log, the asset
    /// store as binary source and backup store, and <see cref="KubeInstallerHost"/>, which runs the leader-elected
    /// controller when <c>--kube-ssh-key</c> is set. Needs the inventory, the assets and the PKI.
    /// </summary>
    public static IServiceCollection AddKubeInstaller(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KubeInstallerOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KubeInstallerOptions>, KubeInstallerOptionsValidator>();
        services.AddSingleton(sp => new ClusterDefinitionStore(sp.GetRequiredService<EtcdStore>()));
        services.AddSingleton(sp => new EtcdBackupLog(sp.GetRequiredService<EtcdStore>()));
        services.AddSingleton<AssetStoreSource>();
        services.AddSingleton<AssetBackupStore>();
        services.AddSingleton<KubeInstallerHost>();
        services.AddHostedService(sp => sp.GetRequiredService<KubeInstallerHost>());
        return services;
    }

    /// <summary><c>/api/v1/cluster</c> (definition, status, history).</summary>
    public static IEndpointRouteBuilder MapKubeInstaller(this IEndpointRouteBuilder app) => app.MapClusterApi();
}
