using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Control;

/// <summary>One probe round as the controller saw it: when, of which inventory, and what was observed.</summary>
public sealed record ObservedRound(DateTimeOffset At, IReadOnlyList<InventoryNode> Inventory, ObservedCluster Observed);

/// <summary>
/// Wraps the prober of a hosted installer: adds the last recorded etcd backup (<see cref="EtcdBackupLog"/>) to what
/// the inner prober observed, unless it reported one itself, and keeps the latest round in memory for status.
/// </summary>
public sealed class ObservingProber(IClusterProber inner, EtcdBackupLog? backups, TimeProvider time) : IClusterProber
{
    private ObservedRound? _last;

    /// <summary>The latest round, or null before the first.</summary>
    public ObservedRound? Last => Volatile.Read(ref _last);

    public async Task<ObservedCluster> ProbeAsync(IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var observed = await inner.ProbeAsync(inventory, ct);
        if (observed.LastEtcdBackup is null && backups is not null)
        {
            observed = observed with { LastEtcdBackup = await backups.LastAsync(ct) };
        }

        Volatile.Write(ref _last, new ObservedRound(time.GetUtcNow(), inventory, observed));
        return observed;
    }
}
