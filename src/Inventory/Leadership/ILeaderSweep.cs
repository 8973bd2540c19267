namespace NekkoMetal.Inventory.Leadership;

/// <summary>A controller that sweeps on a schedule and acts only while its process leads (state setter, replacement controller).</summary>
public interface ILeaderSweep
{
    /// <summary>One sweep; the number of changes made (0 when not the leader).</summary>
    Task<int> SweepAsync(CancellationToken ct);
}
