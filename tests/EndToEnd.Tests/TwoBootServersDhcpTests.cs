using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NekkoMetal.EndToEnd.Tests.Dhcp;
using NekkoMetal.Inventory.Dhcp;
using NekkoMetal.Inventory.Storage;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// Two real nekko-bootserver processes, authoritative on one broadcast segment, sharing one etcd, and 500
/// simulated clients doing DORA on the broadcast path at once: every client gets a lease, no address goes to two
/// clients, etcd holds exactly the 500 bound leases, and a server never answers a REQUEST that named the other.
/// Topology: a segment namespace with bridge <c>br0</c> (and etcd on the bridge address), member namespaces
/// <c>a</c> and <c>b</c> (a boot server each, on its own <c>lan0</c>) and <c>clients</c> (the simulator's socket),
/// each joined to the bridge by a veth. The servers log their DHCP decisions at Debug, so a duplicate or lost lease
/// fails with what each server did for that address and client and the address's history in etcd.
/// </summary>
public sealed class TwoBootServersDhcpTests(ITestOutputHelper output)
{
    private const int Clients = 500;

    /// <summary>The whole test, start to cleanup; the DORA run gets what is left after the servers start.</summary>
    private static readonly TimeSpan TestBound = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Two_servers_on_one_segment_with_one_etcd_lease_500_clients_each_a_distinct_address()
    {
        using var deadline = new CancellationTokenSource(TestBound, TimeProvider.System);
        var ct = deadline.Token;
        await using var segment = await BroadcastSegment.CreateAsync();
        await using var etcd = await SegmentEtcd.StartAsync(segment, ct);
        var prefix = $"/nekko-two-servers-{Guid.NewGuid():N}/";
        await using var a = await SegmentBootServer.StartAsync(segment, "a", segment.Address(0, 2), etcd.Endpoint, prefix, ct);
        await using var b = await SegmentBootServer.StartAsync(segment, "b", segment.Address(0, 3), etcd.Endpoint, prefix, ct);
        Assert.False(File.Exists(b.AdminTokenFile), "the second boot server must find the first one's tokens in etcd and write none");
        var token = (await File.ReadAllTextAsync(a.AdminTokenFile, ct)).Trim();

        // One subnet for the segment; the DHCP pool is larger than 2 × 500 because both servers may hold an offer
        // for the same client until its REQUEST (the unchosen one is only freed when its 60 s hold ends).
        await a.ApiAsync(token, "PUT", "/api/v1/ipam", $$"""
            {"subnets":[{"name":"segment","cidr":"{{segment.Cidr}}","gateway":"{{segment.BridgeAddress}}",
                         "rangeStart":"{{segment.Address(0, 10)}}","rangeEnd":"{{segment.Address(0, 250)}}",
                         "dhcpRangeStart":"{{segment.Address(1, 1)}}","dhcpRangeEnd":"{{segment.Address(7, 254)}}"}]}
            """);
        await WaitUntilAsync(async () => (await b.ApiAsync(token, "GET", "/api/v1/ipam")).Contains(segment.Cidr, StringComparison.Ordinal),
            "the second boot server sees the IPAM plan", ct);

        await segment.AddMemberAsync("clients", null);
        await using var simulator = DhcpClientSimulator.Open(segment.Namespace("clients"), BroadcastSegment.MemberInterface, TimeProvider.System);
        var servers = new[] { IPAddress.Parse(a.Address), IPAddress.Parse(b.Address) };
        var options = new DoraOptions();
        var started = TimeProvider.System.GetTimestamp();
        var results = await simulator.RunAsync(Clients, servers, options, ct);
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        // A server that wrongly answered a REQUEST naming the other one may do so after the client finished.
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
        var leases = (await etcd.GetPrefixAsync(prefix + "dhcp/leases/"))
            .Select(kv => (kv.Key, Lease: JsonSerializer.Deserialize<DhcpLease>(kv.Value, InventoryJson.Options)!))
            .ToList();

        Report(results, servers, elapsed, options, simulator, leases.Select(l => l.Lease).ToList(), a, b);

        var failed = results.Where(r => !r.Leased).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {Clients} clients got no lease, e.g.:\n" +
            string.Join('\n', failed.Take(15).Select(r => $"  {r.Mac} xid 0x{r.TransactionId:x8}: {r.Failure} ({r.Discovers} DISCOVER, {r.Requests} REQUEST, NAKs: {string.Join("; ", r.Naks)})")) +
            ServerProblems(a, b));

        var duplicates = results.GroupBy(r => r.Address).Where(g => g.Count() > 1).ToList();
        if (duplicates.Count > 0)
        {
            var trace = new StringBuilder();
            foreach (var g in duplicates.Take(5))
            {
                trace.Append(await TraceAsync(g.Key!.ToString(), [.. g], etcd, prefix, a, b));
            }

            Assert.Fail("addresses ACKed to more than one client:\n" + trace);
        }

        var foreign = results
            .SelectMany(r => simulator.AnswersTo(r.TransactionId)
                .Where(x => x.Server is null || !r.ServersRequested.Contains(x.Server))
                .Select(x => $"  {r.Mac}: {x.Type} from {x.Server?.ToString() ?? "(no option 54)"}, REQUEST named {string.Join('/', r.ServersRequested)}"))
            .ToList();
        Assert.True(foreign.Count == 0, "a server answered a REQUEST that named another server:\n" + string.Join('\n', foreign.Take(20)));

        foreach (var server in servers)
        {
            Assert.True(results.Any(r => server.Equals(r.Server)), $"{server} acknowledged none of the REQUESTs" + ServerProblems(a, b));
        }

        // etcd holds exactly the 500 bound leases, one per client, each the ACKed address of that client's MAC.
        foreach (var (key, lease) in leases)
        {
            Assert.Equal(prefix + "dhcp/leases/" + lease.Address, key);
        }

        var bound = leases.Select(l => l.Lease).Where(l => l.State == DhcpLeaseState.Bound).ToDictionary(l => l.Address, StringComparer.Ordinal);
        var lost = results.Where(r => !bound.TryGetValue(r.Address!.ToString(), out var l) || l.Mac != r.Mac || l.Client != "mac:" + r.Mac).ToList();
        if (lost.Count > 0)
        {
            var trace = new StringBuilder();
            foreach (var r in lost.Take(5))
            {
                trace.Append(await TraceAsync(r.Address!.ToString(), [r], etcd, prefix, a, b));
            }

            Assert.Fail($"{lost.Count} ACKed leases are not in etcd as bound to their client:\n" + trace);
        }

        Assert.Equal(Clients, bound.Count);
        Assert.Equal(Clients, bound.Values.Select(l => l.Mac).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>What the servers logged about an address and its clients, and the address's history in etcd.</summary>
    private static async Task<string> TraceAsync(string address, IReadOnlyList<DoraResult> clients, SegmentEtcd etcd, string prefix, params SegmentBootServer[] servers)
    {
        var trace = new StringBuilder();
        trace.AppendLine(CultureInfo.InvariantCulture, $"{address}: ACKed to {string.Join(", ", clients.Select(r => $"{r.Mac} (xid 0x{r.TransactionId:x8}) by {r.Server}"))}");
        foreach (var server in servers)
        {
            foreach (var line in server.MessagesContaining(address + " ").Concat(clients.SelectMany(r => server.MessagesContaining(r.Mac))).Distinct())
            {
                trace.AppendLine(CultureInfo.InvariantCulture, $"  {server.Member}: {line}");
            }
        }

        trace.AppendLine("  etcd history of the address:");
        trace.AppendLine(await etcd.HistoryAsync(prefix + "dhcp/leases/" + address));
        return trace.ToString();
    }

    private void Report(IReadOnlyList<DoraResult> results, IReadOnlyList<IPAddress> servers, TimeSpan elapsed, DoraOptions options,
        DhcpClientSimulator simulator, List<DhcpLease> leases, params SegmentBootServer[] bootServers)
    {
        var leased = results.Where(r => r.Leased).ToList();
        var latencies = leased.Select(r => r.Elapsed.TotalMilliseconds).Order().ToList();
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{leased.Count}/{results.Count} clients leased in {elapsed.TotalSeconds:0.00} s ({leased.Count / elapsed.TotalSeconds:0.0} DORA/s, {options.Concurrency} in flight); " +
            $"per client p50 {Percentile(0.5):0} ms, p95 {Percentile(0.95):0} ms, max {(latencies.Count == 0 ? 0 : latencies[^1]):0} ms");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"distinct addresses ACKed: {leased.Select(r => r.Address).Distinct().Count()}; clients that saw 2 offers: {results.Count(r => r.MostOffers >= 2)}, 1: {results.Count(r => r.MostOffers == 1)}; " +
            $"DISCOVERs sent {results.Sum(r => r.Discovers)}, REQUESTs {results.Sum(r => r.Requests)}, NAKs {results.Sum(r => r.Naks.Count)}; " +
            $"stray replies {simulator.StrayReplies}, undecodable {simulator.UndecodableReplies}");
        foreach (var server in servers)
        {
            var preferring = results.Where(r => r.PreferredServer.Equals(server)).ToList();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"ACKs from {server}: {results.Count(r => server.Equals(r.Server))} (of the {preferring.Count} clients preferring it: {preferring.Count(r => server.Equals(r.Server))})");
        }

        text.AppendLine(CultureInfo.InvariantCulture,
            $"etcd dhcp/leases: {leases.Count} keys: {string.Join(", ", leases.GroupBy(l => l.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"))}");
        foreach (var nak in results.SelectMany(r => r.Naks.Select(n => $"  NAK to {r.Mac} ({(r.Leased ? "leased " + r.Address + " from " + r.Server + " later" : "never leased")}): {n}")).Take(10))
        {
            text.AppendLine(nak);
        }

        foreach (var server in bootServers)
        {
            var problems = server.Problems;
            text.AppendLine(CultureInfo.InvariantCulture, $"boot server {server.Member} ({server.Address}): {problems.Count} warnings/errors logged");
            foreach (var problem in problems.Take(5))
            {
                text.AppendLine("  " + problem);
            }
        }

        output.WriteLine(text.ToString());
    }

    private static string ServerProblems(params SegmentBootServer[] servers) =>
        string.Concat(servers.Select(s => $"\nboot server {s.Member} ({s.Address}) warnings/errors:\n  " + string.Join("\n  ", s.Problems.Take(10))));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20), TimeProvider.System);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ct);
        while (!await condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, either.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("timed out waiting until " + what);
            }
        }
    }
}
