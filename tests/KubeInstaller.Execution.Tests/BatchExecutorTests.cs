using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.KubeInstaller.Tests;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

public sealed class BatchExecutorTests
{
    private static List<ClusterOperation> Bootstrap()
    {
        var inventory = Scenario.Inventory(3, 0);
        return [.. Scenario.Plan(Scenario.Definition(), inventory, Scenario.Bare(inventory)).Operations];
    }

    [Fact]
    public void Bootstrap_runs_each_node_in_its_own_lane_and_all_starts_before_any_wait()
    {
        var segments = BatchExecutor.Segments(Bootstrap());
        Assert.Equal(2, segments.Count);
        Assert.Equal(3, segments[0].Count); // one lane per node
        Assert.All(segments[0], lane => Assert.Equal(OperationKind.StartUnit, lane[^1].Kind));
        Assert.All(segments[0], lane => Assert.Single(lane.SelectMany(o => o.Nodes).Distinct()));
        Assert.All(segments[1], lane => Assert.Equal([OperationKind.WaitHealthy], lane.Select(o => o.Kind)));
    }

    [Fact]
    public void A_member_change_is_a_segment_alone_between_the_node_work_before_and_after()
    {
        var definition = Scenario.Definition();
        var observed = Scenario.Converged(definition, Scenario.Inventory(3, 0));
        observed = observed with { Nodes = new Dictionary<string, ObservedNode>(observed.Nodes) { [Scenario.Cp(4).Serial] = Scenario.Fresh(Scenario.Cp(4)) } };
        var plan = Scenario.Plan(definition, [Scenario.Cp(1, NodeState.Retired), Scenario.Cp(2), Scenario.Cp(3), Scenario.Cp(4)], observed);
        Assert.Contains(plan.Operations, o => o.Kind == OperationKind.AddEtcdLearner);
        var kinds = BatchExecutor.Segments(plan.Operations).Select(seg => seg.SelectMany(l => l).Select(o => o.Kind).ToList()).ToList();
        var add = kinds.FindIndex(k => k.Contains(OperationKind.AddEtcdLearner));
        Assert.Equal([OperationKind.AddEtcdLearner], kinds[add]);
        Assert.Contains(OperationKind.WriteBinary, kinds[add - 1]);
        Assert.Contains(OperationKind.StartUnit, kinds[add + 1]);
        Assert.Equal([OperationKind.WaitHealthy], kinds[^1]);
    }

    private sealed class FakeRunner(string failOn) : IOperationRunner
    {
        public ConcurrentQueue<string> Ran { get; } = new();

        public int MaxConcurrent;
        private int _running;

        public async Task RunAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref _running);
            InterlockedMax(ref MaxConcurrent, now);
            await Task.Delay(20, ct);
            Interlocked.Decrement(ref _running);
            Ran.Enqueue(op.Description);
            if (op.Description == failOn)
            {
                throw new OperationFailedException("boom: " + op.Description);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while (value > (seen = target) && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    private sealed class ListHistory : IOperationHistory
    {
        public List<OperationRecord> Records { get; } = [];

        public Task RecordAsync(OperationRecord record, CancellationToken ct)
        {
            lock (Records)
            {
                Records.Add(record);
            }

            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<OperationRecord>> ListAsync(int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<OperationRecord>>(Records);
    }

    [Fact]
    public async Task The_first_failure_stops_the_batch_and_everything_is_recorded()
    {
        var batch = Bootstrap();
        var failing = batch.First(o => o.Kind == OperationKind.WriteBinary && o.Nodes[0] == "cp2");
        var runner = new FakeRunner(failing.Description);
        var history = new ListHistory();
        var executor = new BatchExecutor(runner, history, new ExecutorOptions { Parallelism = 2 }, TimeProvider.System, NullLogger<BatchExecutor>.Instance);

        var result = await executor.RunAsync(batch, Scenario.Inventory(3, 0), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("boom", result.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal(batch.Count, history.Records.Count); // every operation has a record
        Assert.Equal(OperationOutcome.Failed, history.Records.Single(r => r.Description == failing.Description).Outcome);
        // cp2's later operations and every wait were not run
        Assert.DoesNotContain(runner.Ran, d => d.StartsWith("cp2: start", StringComparison.Ordinal));
        Assert.DoesNotContain(runner.Ran, d => d.Contains("wait for", StringComparison.Ordinal));
        Assert.All(history.Records.Where(r => r.Kind == OperationKind.WaitHealthy), r => Assert.Equal(OperationOutcome.Skipped, r.Outcome));
        Assert.True(runner.MaxConcurrent <= 2, "parallelism limit exceeded");
        Assert.True(runner.MaxConcurrent == 2, "nodes were not worked on in parallel");
        // unit contents are not copied into the history
        Assert.All(history.Records, r => Assert.False(r.Parameters.ContainsKey(OperationParameters.Content)));
    }

    [Fact]
    public async Task A_batch_that_succeeds_runs_each_node_in_order()
    {
        var batch = Bootstrap();
        var runner = new FakeRunner("none");
        var executor = new BatchExecutor(runner, new ListHistory(), new ExecutorOptions(), TimeProvider.System, NullLogger<BatchExecutor>.Instance);
        var result = await executor.RunAsync(batch, Scenario.Inventory(3, 0), CancellationToken.None);
        Assert.True(result.Succeeded);
        foreach (var node in new[] { "cp1", "cp2", "cp3" })
        {
            var expected = batch.Where(o => o.Nodes[0] == node).Select(o => o.Description).ToList();
            Assert.Equal(expected, runner.Ran.Where(d => d.StartsWith(node + ":", StringComparison.Ordinal)).ToList());
        }

        var ran = runner.Ran.ToList();
        Assert.True(ran.FindLastIndex(d => d.Contains(": start ", StringComparison.Ordinal)) < ran.FindIndex(d => d.Contains("wait for", StringComparison.Ordinal)));
    }

    [Fact]
    public void Profiles_split_ip_and_dns_names_and_map_usages()
    {
        var op = new ClusterOperation(ClusterPhase.EtcdCluster, OperationKind.IssueCertificate, ["cp1"],
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                [OperationParameters.CommonName] = "cp1",
                [OperationParameters.Organization] = "",
                [OperationParameters.SubjectAltNames] = "cp1,10.0.0.11,localhost,127.0.0.1",
                [OperationParameters.Usage] = "server,client",
                [OperationParameters.Ca] = "kubernetes-etcd",
                [OperationParameters.Path] = "/etc/nekko/pki/etcd/server.crt",
            }), "cp1: issue");
        var profile = OperationRunner.ProfileOf(op, TimeSpan.FromDays(10));
        Assert.Equal(["cp1", "localhost"], profile.DnsNames);
        Assert.Equal(["10.0.0.11", "127.0.0.1"], profile.IpAddresses.Select(i => i.ToString()));
        Assert.Equal(NekkoMetal.Pki.CertificateUsage.ServerAndClient, profile.Usage);
        Assert.Empty(profile.Organizations);
        Assert.Equal("/etc/nekko/pki/etcd/server.key", OperationRunner.KeyPath("/etc/nekko/pki/etcd/server.crt"));
        Assert.Equal("/etc/nekko/pki/etcd/ca.crt", OperationRunner.CaPath(NekkoMetal.Pki.CaKind.KubernetesEtcd));
    }
}
