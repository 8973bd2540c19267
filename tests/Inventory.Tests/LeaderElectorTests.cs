using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Leader election against a real etcd (real time: etcd leases expire by etcd's clock), own key prefix per test.</summary>
[Collection(EtcdCollection.Name)]
public sealed class LeaderElectorTests(EtcdFixture etcd) : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private InventoryHarness _inv = null!;
    private readonly List<LeaderElector> _electors = [];

    public async Task InitializeAsync() => _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());

    public async Task DisposeAsync()
    {
        foreach (var e in _electors)
        {
            await e.StopAsync(CancellationToken.None);
            e.Dispose();
        }

        await _inv.DisposeAsync();
    }

    private async Task<LeaderElector> StartAsync(string id)
    {
        var e = new LeaderElector(_inv.Store, new LeaderElectionOptions { Name = "test", CandidateId = id, LeaseTtl = Ttl }, TimeProvider.System, NullLogger<LeaderElector>.Instance);
        _electors.Add(e);
        await e.StartAsync(CancellationToken.None);
        return e;
    }

    private static async Task<LeaderElector> OneLeaderAsync(TimeSpan within, params LeaderElector[] electors)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            var leaders = electors.Where(e => e.IsLeader).ToList();
            Assert.True(leaders.Count <= 1, "two leaders at once");
            if (leaders.Count == 1)
            {
                return leaders[0];
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("no leader");
    }

    [Fact]
    public async Task TwoElectors_ExactlyOneLeads_AndTheKeyHoldsItsId()
    {
        var a = await StartAsync("server-a");
        var b = await StartAsync("server-b");
        var leader = await OneLeaderAsync(TimeSpan.FromSeconds(10), a, b);
        for (var i = 0; i < 20; i++)
        {
            Assert.Single(new[] { a, b }, e => e.IsLeader);
            await Task.Delay(50);
        }

        var key = await _inv.Store.GetAsync(_inv.Store.Keys.Leader("test"), default);
        Assert.Equal(leader.CandidateId, key.Kvs.Single().Value.ToStringUtf8());
        Assert.Equal(key.Kvs.Single().CreateRevision, leader.Fence!.CreateRevision);
        var follower = leader == a ? b : a;
        Assert.Null(follower.Fence);
        Assert.True(follower.LeadershipToken.IsCancellationRequested);
        Assert.False(leader.LeadershipToken.IsCancellationRequested);
    }

    [Fact]
    public async Task LeaderStopped_TheOtherTakesOverAtOnce_NotAfterTheTtl()
    {
        var a = await StartAsync("server-a");
        var b = await StartAsync("server-b");
        var leader = await OneLeaderAsync(TimeSpan.FromSeconds(10), a, b);
        var follower = leader == a ? b : a;
        var token = leader.LeadershipToken;
        var oldFence = leader.Fence!;

        var stopped = DateTime.UtcNow;
        await leader.StopAsync(CancellationToken.None);
        Assert.True(token.IsCancellationRequested);
        Assert.False(leader.IsLeader);
        Assert.Same(follower, await OneLeaderAsync(TimeSpan.FromSeconds(10), a, b));
        Assert.True(DateTime.UtcNow - stopped < Ttl, "the resignation (revoke) should hand over before the TTL");
        Assert.NotEqual(oldFence.CreateRevision, follower.Fence!.CreateRevision);
    }

    [Fact]
    public async Task LeaderWhoseLeaseExpires_LosesLeadership_AndItsFencedWriteIsRefused()
    {
        var machine = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "SN-FENCE", Macs = ["52:54:00:aa:00:01"] }, "admin", default);
        var a = await StartAsync("server-a");
        await OneLeaderAsync(TimeSpan.FromSeconds(10), a);
        var b = await StartAsync("server-b");
        var fence = a.Fence!;
        var lost = a.LeadershipToken;

        // The fence works while the leadership holds.
        await _inv.Machines.SetStateAsync(machine.Serial, MachineState.Healthy, "test", "leader-a", fence, default);

        a.SimulatePartition = true; // no keep-alives reach etcd any more
        var deadline = DateTime.UtcNow + Ttl + TimeSpan.FromSeconds(5);
        while (!lost.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(lost.IsCancellationRequested, "the leader did not notice its lease ran out");

        // Stop the cut-off candidate (still cut off: no revoke reaches etcd), so the successor is b and not a
        // re-elected a whose next lease would run out again during the checks below.
        await a.StopAsync(CancellationToken.None);
        Assert.False(a.IsLeader);
        var successor = await OneLeaderAsync(TimeSpan.FromSeconds(15), a, b);
        Assert.Same(b, successor);
        Assert.NotEqual(fence.CreateRevision, successor.Fence!.CreateRevision);

        // A deposed leader still acting on its old fence: refused, nothing written.
        var before = await _inv.Machines.GetAsync(machine.Serial, default);
        await Assert.ThrowsAsync<NotLeaderException>(() =>
            _inv.Machines.SetStateAsync(machine.Serial, MachineState.Unhealthy, "late write", "leader-a", fence, default));
        var after = await _inv.Machines.GetAsync(machine.Serial, default);
        Assert.Equal(MachineState.Healthy, after.State);
        Assert.Equal(before.Revision, after.Revision);

        // The successor's fence is accepted.
        await _inv.Machines.SetStateAsync(machine.Serial, MachineState.Unhealthy, "test", successor.CandidateId, successor.Fence!, default);
        Assert.Equal(MachineState.Unhealthy, (await _inv.Machines.GetAsync(machine.Serial, default)).State);
    }
}
