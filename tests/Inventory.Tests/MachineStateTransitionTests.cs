using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Every allowed and every forbidden transition, through the repository against a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class MachineStateTransitionTests(EtcdFixture etcd) : IAsyncLifetime
{
    private InventoryHarness _inv = null!;
    private static int _macSeed;

    public async Task InitializeAsync() => _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());

    public async Task DisposeAsync() => await _inv.DisposeAsync();

    public static TheoryData<MachineState, MachineState> AllPairs()
    {
        var data = new TheoryData<MachineState, MachineState>();
        foreach (var from in Enum.GetValues<MachineState>())
        {
            foreach (var to in Enum.GetValues<MachineState>())
            {
                if (from != to)
                {
                    data.Add(from, to);
                }
            }
        }

        return data;
    }

    /// <summary>The shortest way from uninitialized to <paramref name="target"/> through allowed moves.</summary>
    private static List<MachineState> PathTo(MachineState target)
    {
        var prev = new Dictionary<MachineState, MachineState> { [MachineState.Uninitialized] = MachineState.Uninitialized };
        var queue = new Queue<MachineState>([MachineState.Uninitialized]);
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var n in MachineStateTransitions.AllowedFrom(s))
            {
                if (prev.TryAdd(n, s))
                {
                    queue.Enqueue(n);
                }
            }
        }

        var path = new List<MachineState>();
        for (var s = target; s != MachineState.Uninitialized; s = prev[s])
        {
            path.Insert(0, s);
        }

        return path;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public async Task Transition_FollowsTheTable(MachineState from, MachineState to)
    {
        var serial = $"T-{from}-{to}";
        var n = Interlocked.Increment(ref _macSeed);
        await _inv.Machines.RegisterAsync(new MachineSpec { Serial = serial, Macs = [$"52:54:00:01:{n / 256:x2}:{n % 256:x2}"] }, "test", default);
        foreach (var step in PathTo(from))
        {
            await _inv.Machines.SetStateAsync(serial, step, null, "test", default);
        }

        var before = await _inv.Machines.GetAsync(serial, default);
        Assert.Equal(from, before.State);

        if (MachineStateTransitions.IsAllowed(from, to))
        {
            var after = await _inv.Machines.SetStateAsync(serial, to, null, "test", default);
            Assert.Equal(to, after.State);
            Assert.Equal(to, (await _inv.Machines.GetAsync(serial, default)).State);
        }
        else
        {
            var e = await Assert.ThrowsAsync<ForbiddenTransitionException>(() => _inv.Machines.SetStateAsync(serial, to, null, "test", default));
            Assert.Equal(from, e.From);
            Assert.Equal(to, e.To);
            var unchanged = await _inv.Machines.GetAsync(serial, default);
            Assert.Equal(from, unchanged.State);
            Assert.Equal(before.Revision, unchanged.Revision);
        }
    }

    [Fact]
    public async Task SettingTheSameState_IsANoOp()
    {
        var m = await _inv.Machines.RegisterAsync(new MachineSpec { Serial = "SAME", Macs = ["52:54:00:02:00:01"] }, "test", default);
        var again = await _inv.Machines.SetStateAsync("SAME", MachineState.Uninitialized, null, "test", default);
        Assert.Equal(m.Revision, again.Revision);
    }

    [Fact]
    public void Table_ReachesEveryState_AndOnlyRetiredCanBeDeleted()
    {
        foreach (var s in Enum.GetValues<MachineState>())
        {
            Assert.True(s == MachineState.Uninitialized || PathTo(s).Count > 0);
            Assert.Equal(s == MachineState.Retired, MachineStateTransitions.CanDelete(s));
        }
    }
}
