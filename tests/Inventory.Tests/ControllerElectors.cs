using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Electors of the controllers' leadership for controller tests (3 s lease on etcd's real clock), stopped together.</summary>
internal sealed class ControllerElectors : IAsyncDisposable
{
    private readonly List<LeaderElector> _electors = [];

    /// <summary>Starts candidate <paramref name="id"/> and, unless told not to, waits (≤ 10 s) until it leads.</summary>
    public async Task<LeaderElector> StartAsync(EtcdStore store, string id, bool waitForLeadership = true)
    {
        var elector = new LeaderElector(store, new LeaderElectionOptions { Name = "controllers", CandidateId = id, LeaseTtl = TimeSpan.FromSeconds(3) },
            TimeProvider.System, NullLogger<LeaderElector>.Instance);
        _electors.Add(elector);
        await elector.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (waitForLeadership && !elector.IsLeader && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return elector;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var e in _electors)
        {
            await e.StopAsync(CancellationToken.None);
            e.Dispose();
        }
    }
}
