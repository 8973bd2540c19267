using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Execution.Probing;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.KubeInstaller.Tests;
using NekkoMetal.TestKit;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

/// <summary>
/// The installer as a leader-elected controller on a real etcd: of two boot servers only the leader runs operations;
/// when it resigns the other takes over, and the deposed one runs nothing more — every operation and every history
/// record passes the leadership fence in etcd.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class LeaderControllerTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly EtcdStore _store = new(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = EtcdFixture.NewPrefix() });
    private readonly List<(LeaderElector Elector, KubeInstallerController Controller)> _servers = [];
    private readonly ConcurrentQueue<(string Server, string Operation, long At)> _ran = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (elector, controller) in _servers)
        {
            await controller.StopAsync(default);
            await elector.StopAsync(default);
        }

        _store.Dispose();
    }

    /// <summary>Sees a bare cluster every time (the fake runner changes nothing), so there is always a bootstrap to run.</summary>
    private sealed class BareProber : IClusterProber
    {
        public Task<ObservedCluster> ProbeAsync(IReadOnlyList<InventoryNode> inventory, CancellationToken ct) => Task.FromResult(Scenario.Bare(inventory));
    }

    private sealed class RecordingRunner(string server, ConcurrentQueue<(string, string, long)> ran, Stopwatch clock) : IOperationRunner
    {
        public async Task RunAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
        {
            ran.Enqueue((server, op.Description, clock.ElapsedMilliseconds));
            await Task.Delay(5, ct);
        }
    }

    private sealed class FixedSource : IClusterSource
    {
        public Task<(ClusterDefinition?, IReadOnlyList<InventoryNode>)> LoadAsync(CancellationToken ct) =>
            Task.FromResult<(ClusterDefinition?, IReadOnlyList<InventoryNode>)>((Scenario.Definition(), Scenario.Inventory(3, 0)));
    }

    private async Task<LeaderElector> StartServerAsync(string id)
    {
        var elector = new LeaderElector(_store, new LeaderElectionOptions { Name = "kube-installer", CandidateId = id, LeaseTtl = TimeSpan.FromSeconds(2) },
            TimeProvider.System, NullLogger<LeaderElector>.Instance);
        var options = new ExecutorOptions();
        var executor = new BatchExecutor(new RecordingRunner(id, _ran, _clock), new EtcdOperationHistory(_store, 1000, elector), options,
            TimeProvider.System, NullLogger<BatchExecutor>.Instance, new FencedOperationGate(_store, elector));
        var reconciler = new ClusterReconciler(new BareProber(), executor, TimeProvider.System, NullLogger<ClusterReconciler>.Instance);
        var controller = new KubeInstallerController(elector, new FixedSource(), reconciler,
            new KubeInstallerControllerOptions { Interval = TimeSpan.FromMilliseconds(100), LastPhase = ClusterPhase.EtcdCluster },
            TimeProvider.System, NullLogger<KubeInstallerController>.Instance);
        _servers.Add((elector, controller));
        await elector.StartAsync(default);
        await controller.StartAsync(default);
        return elector;
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = _clock.Elapsed + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(_clock.Elapsed < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Only_the_leader_runs_operations_and_a_deposed_leader_runs_none_after_its_successor_started()
    {
        var a = await StartServerAsync("server-a");
        await WaitForAsync(() => a.IsLeader, "server-a to lead");
        var b = await StartServerAsync("server-b");
        await WaitForAsync(() => _ran.Count(r => r.Server == "server-a") >= 30, "server-a to run operations");
        Assert.DoesNotContain(_ran, r => r.Server == "server-b");
        Assert.False(b.IsLeader);

        await a.StopAsync(default); // resigns: server-b takes over
        await WaitForAsync(() => _ran.Count(r => r.Server == "server-b") >= 30, "server-b to run operations");
        var firstOfB = _ran.Where(r => r.Server == "server-b").Min(r => r.At);
        Assert.DoesNotContain(_ran, r => r.Server == "server-a" && r.At > firstOfB);

        // every record of the history was written under a valid fence, by either term
        var history = await new EtcdOperationHistory(_store).ListAsync(1000, default);
        Assert.NotEmpty(history);
    }

    private sealed class StaleLeadership(LeaderFence? fence) : ILeadership
    {
        public bool IsLeader => fence is not null;

        public LeaderFence? Fence => fence;

        public CancellationToken LeadershipToken => CancellationToken.None;
    }

    [Fact]
    public async Task A_stale_fence_refuses_the_gate_and_the_history_write()
    {
        var stale = new StaleLeadership(new LeaderFence(_store.Keys.Leader("kube-installer"), 12345));
        await Assert.ThrowsAsync<LeadershipLostException>(() => new FencedOperationGate(_store, stale).EnterAsync(default));
        await Assert.ThrowsAsync<LeadershipLostException>(() => new FencedOperationGate(_store, new StaleLeadership(null)).EnterAsync(default));
        var record = new OperationRecord(ClusterPhase.EtcdCluster, OperationKind.StartUnit, ["cp1"], "op", Scenario.Now, Scenario.Now, OperationOutcome.Succeeded, null);
        await Assert.ThrowsAsync<LeadershipLostException>(() => new EtcdOperationHistory(_store, 10, stale).RecordAsync(record, default));
        Assert.Empty(await new EtcdOperationHistory(_store).ListAsync(10, default));
    }

    [Fact]
    public async Task The_definition_round_trips_through_etcd_with_compare_and_swap()
    {
        var definitions = new ClusterDefinitionStore(_store);
        Assert.Equal((null, 0), await definitions.GetAsync(default));
        var definition = Scenario.Definition() with
        {
            ExtraFlags = new Dictionary<ClusterComponent, IReadOnlyList<string>> { [ClusterComponent.Etcd] = ["--heartbeat-interval=150"] },
        };
        Assert.True(await definitions.PutAsync(definition, 0, default));
        Assert.False(await definitions.PutAsync(definition, 0, default)); // someone else's write in between: refused
        var (stored, revision) = await definitions.GetAsync(default);
        Assert.NotNull(stored);
        Assert.Equal(definition.Name, stored.Name);
        Assert.Equal(definition.Binaries, stored.Binaries);
        Assert.Equal(["--heartbeat-interval=150"], stored.ExtraFlags[ClusterComponent.Etcd]);
        Assert.Equal(definition.ControlPlaneSelector.Role, stored.ControlPlaneSelector.Role);
        // the planner sees the same cluster from the stored definition
        var inventory = Scenario.Inventory();
        Assert.Equal(Scenario.Plan(definition, inventory, Scenario.Bare(inventory)).Descriptions(), Scenario.Plan(stored, inventory, Scenario.Bare(inventory)).Descriptions());
        Assert.True(await definitions.PutAsync(stored with { ControlPlaneCount = 5 }, revision, default));
    }

    [Fact]
    public void Machines_become_inventory_nodes_with_their_state_role_labels_and_first_address()
    {
        var nodes = InventoryNodes.From(
        [
            new Machine { Serial = "B", Role = "cp", Ipv4 = ["10.0.0.2"], State = MachineState.Retiring, Labels = new Dictionary<string, string> { ["zone"] = "a" } },
            new Machine { Serial = "A", Role = "worker", Ipv4 = ["10.0.0.1", "10.0.0.9"], State = MachineState.Healthy },
            new Machine { Serial = "C", Role = null, Ipv4 = ["10.0.0.3"] }, // no role: not a candidate
            new Machine { Serial = "D", Role = "cp" }, // no address yet
        ]);
        Assert.Equal(["A", "B"], nodes.Select(n => n.Serial));
        Assert.Equal("10.0.0.1", nodes[0].Address);
        Assert.Equal(NodeState.Retiring, nodes[1].State);
        Assert.Equal("a", nodes[1].Labels["zone"]);
        foreach (var state in Enum.GetValues<MachineState>())
        {
            Assert.Equal(state.ToWire(), InventoryNodes.From([new Machine { Serial = "X", Role = "r", Ipv4 = ["1.1.1.1"], State = state }])[0].State.ToString().ToLowerInvariant());
        }
    }
}
