using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Execution.Secrets;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.Pki;
using NekkoMetal.Pki.BuiltIn;

namespace NekkoMetal.BootServer.Kube;

/// <summary>The inventory cache's machines and the stored definition, each round.</summary>
public sealed class CachedClusterSource(ClusterDefinitionStore definitions, InventoryCache cache) : IClusterSource
{
    public async Task<(ClusterDefinition? Definition, IReadOnlyList<InventoryNode> Inventory)> LoadAsync(CancellationToken ct)
    {
        var (definition, _) = await definitions.GetAsync(ct);
        return (definition, InventoryNodes.From(cache.Machines));
    }
}

/// <summary>
/// Runs the Kubernetes installer in this boot server when it is configured (<c>--kube-ssh-key</c>): every boot server
/// runs a candidate in the <c>kube-installer</c> election and only the leader acts (<see cref="KubeInstallerController"/>,
/// every operation and history record fenced on the leadership key). Builds the executor from the boot server's
/// parts: the inventory cache's machines, the stored definition, the PKI's <c>kubernetes</c> and
/// <c>kubernetes-etcd</c> CAs, the asset store for binaries and etcd snapshots, the host-key pins in etcd. Without
/// a key it logs why it is off and does nothing; the cluster API still reads and writes the definition.
/// </summary>
public sealed partial class KubeInstallerHost(
    IOptions<KubeInstallerOptions> options,
    IOptions<HealthOptions> health,
    ServerRegistryOptions server,
    EtcdStore store,
    InventoryCache cache,
    ClusterDefinitionStore definitions,
    EtcdBackupLog backups,
    ICertificateIssuer issuer,
    PkiOptions pki,
    AssetStoreSource assets,
    AssetBackupStore backupStore,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    public const string LeadershipName = "kube-installer";

    private readonly ILogger _logger = loggers.CreateLogger<KubeInstallerHost>();
    private LeaderElector? _elector;
    private KubeInstallerController? _controller;
    private NodeConnectionPool? _pool;

    /// <summary>Whether the installer runs on this boot server.</summary>
    public bool Enabled => options.Value.Enabled;

    /// <summary>Why it does not run (null when it does).</summary>
    public string? DisabledReason => Enabled ? null : "no SSH private key configured (--kube-ssh-key / kubeSshKey): the installer cannot reach nodes without one";

    /// <summary>This server's candidate in the election; null when the installer is off or not started yet.</summary>
    public ILeadership? Leadership => Volatile.Read(ref _elector);

    /// <summary>The latest probe round (on the leader); null before the first.</summary>
    public ObservingProber? Prober { get; private set; }

    public KubeInstallerOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            LogOff(_logger, DisabledReason!);
            return;
        }

        await cache.WhenReady.WaitAsync(stoppingToken);
        var ssh = new SshOptions
        {
            PrivateKeyPath = o.KubeSshKey,
            User = o.KubeSshUser,
            Port = o.KubeSshPort,
            ConnectTimeout = TimeSpan.FromSeconds(o.KubeConnectTimeoutSeconds),
            CommandTimeout = TimeSpan.FromSeconds(o.KubeCommandTimeoutSeconds),
        };
        var elector = new LeaderElector(store, new LeaderElectionOptions
        {
            Name = LeadershipName,
            CandidateId = server.ServerId,
            LeaseTtl = TimeSpan.FromSeconds(health.Value.LeaderLeaseSeconds),
        }, time, loggers.CreateLogger<LeaderElector>());
        var executorOptions = new ExecutorOptions { Parallelism = o.KubeParallelism, HealthTimeout = TimeSpan.FromSeconds(o.KubeHealthTimeoutSeconds) };
        _pool = new NodeConnectionPool(ssh, new EtcdHostKeyStore(store, time), loggers.CreateLogger<NodeConnectionPool>());
        var runner = new OperationRunner(_pool, issuer, assets, executorOptions, time)
        {
            BackupStore = backupStore,
            BackupLog = backups,
            ServiceAccountKeys = new ServiceAccountKeyStore(store, new SecretSealer(pki), time),
        };
        var executor = new BatchExecutor(runner, new EtcdOperationHistory(store, 1000, elector), executorOptions, time,
            loggers.CreateLogger<BatchExecutor>(), new FencedOperationGate(store, elector));
        Prober = new ObservingProber(new ClusterProber(_pool, loggers.CreateLogger<ClusterProber>()), backups, time);
        var reconciler = new ClusterReconciler(Prober, executor, time, loggers.CreateLogger<ClusterReconciler>());
        var controllerOptions = new KubeInstallerControllerOptions { Interval = TimeSpan.FromSeconds(o.KubeIntervalSeconds), LastPhase = o.LastPhase };
        LogOn(_logger, ssh.User, o.KubeSshKey, KubePhases.ToWire(o.LastPhase), server.ServerId);
        Volatile.Write(ref _elector, elector);
        await elector.StartAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            // the controller handles the failures it expects; anything else ends its loop: log it and start a new one
            // (the boot server's other services go on)
            _controller = new KubeInstallerController(elector, new CachedClusterSource(definitions, cache), reconciler, controllerOptions,
                time, loggers.CreateLogger<KubeInstallerController>());
            await _controller.StartAsync(stoppingToken);
            try
            {
                await (_controller.ExecuteTask ?? Task.CompletedTask);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogCrashed(_logger, e);
            }

            try
            {
                await Task.Delay(controllerOptions.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_controller is not null)
        {
            await _controller.StopAsync(cancellationToken);
            _controller.Dispose();
        }

        if (_elector is not null)
        {
            await _elector.StopAsync(cancellationToken);
            _elector.Dispose();
        }

        if (_pool is not null)
        {
            await _pool.DisposeAsync();
        }
    }

    [LoggerMessage(KubeEventIds.InstallerCrashed, LogLevel.Error, "Kubernetes installer: its loop failed unexpectedly; starting it again")]
    private static partial void LogCrashed(ILogger logger, Exception exception);

    [LoggerMessage(KubeEventIds.InstallerOff, LogLevel.Information, "Kubernetes installer: off on this boot server: {Reason}")]
    private static partial void LogOff(ILogger logger, string reason);

    [LoggerMessage(KubeEventIds.InstallerOn, LogLevel.Information,
        "Kubernetes installer: on (SSH as {User} with key {KeyPath}; phases up to {LastPhase}); candidate {ServerId} in the kube-installer election: only the leader acts")]
    private static partial void LogOn(ILogger logger, string user, string keyPath, string lastPhase, string serverId);
}

/// <summary>Log event ids of the hosted installer (2800–2849; the boot server's ranges are in <see cref="EventIds"/>).</summary>
internal static class KubeEventIds
{
    public const int InstallerOff = 2800;
    public const int InstallerOn = 2801;
    public const int InstallerCrashed = 2802;
}
