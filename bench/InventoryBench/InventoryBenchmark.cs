using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.Bench;

/// <summary>
/// Issue 2, item 5: with the fleet registered, read latency of the boot server's admin API (GET by serial, filtered
/// list) against raw etcd reads of the same data (one key, a range of as many records), interleaved request by
/// request so drift of the machine hits both sides alike. Everything runs on loopback and stops by itself.
/// </summary>
internal sealed class InventoryBenchmark(BenchOptions options, TextWriter progress)
{
    public const string Prefix = "/nekko/";

    private const string ApiMachines = "/api/v1/machines";

    /// <summary>(a), (b), (b0), (c), (d): the kinds sent in every iteration.</summary>
    private const int Interleaved = 5;

    private readonly byte[] _buffer = new byte[1 << 20];

    public async Task<BenchResult> RunAsync(CancellationToken ct)
    {
        var startedAt = TimeProvider.System.GetUtcNow();
        var loadAtStart = ProcessCpu.LoadAverage();
        var dll = RepoPaths.BootServerDll(options.BootServerDll, progress);
        var fleet = Fleet.Generate(options.Machines);

        progress.WriteLine($"starting etcd ({EtcdServer.Binary}) and {dll}");
        await using var etcd = await EtcdServer.StartAsync();
        await using var server = await BootServerProcess.StartAsync(dll, etcd.Endpoint, Prefix, ct);
        var etcdPid = ProcessCpu.FindByArgument("--listen-client-urls", etcd.Endpoint);
        progress.WriteLine($"etcd {etcd.Endpoint} (pid {etcdPid?.ToString(CultureInfo.InvariantCulture) ?? "?"}), boot server {server.BaseAddress} (pid {server.Pid})");

        using var http = CreateHttpClient(server);
        using var store = new EtcdStore(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = Prefix });

        await SendAsync(http, HttpMethod.Put, "/api/v1/ipam", new { subnets = new[] { new { name = "bench", cidr = "10.64.0.0/16" } } }, ct);
        var registration = await RegisterAsync(http, fleet, ct);
        var stored = await store.RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(store.Keys.MachinesPrefix),
            RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(store.Keys.MachinesPrefix)),
            CountOnly = true,
        }, ct);
        if (stored.Count != fleet.Machines.Count)
        {
            throw new InvalidOperationException($"etcd holds {stored.Count} machines after registering {fleet.Machines.Count}");
        }

        await VerifyFilteredListsAsync(http, fleet, ct);

        var requests = new Requests(server.BaseAddress, store, fleet);
        var stats = new[]
        {
            new LatencyStats(RequestKind.GetBySerial, "(a) API GET by serial",
                "GET /api/v1/machines/{serial}: one random serial; HTTP/1.1 keep-alive, one connection, sequential", options.Rounds),
            new LatencyStats(RequestKind.FilteredList, "(b) API filtered list",
                $"GET /api/v1/machines?role=worker&label=rack%3D{{R}}: one random rack R of 0..99, which holds N = {WorkerCounts(fleet)} " +
                $"workers, found by the server among {fleet.Machines.Count} machines in memory", options.Rounds),
            new LatencyStats(RequestKind.EmptyList, "(b0) API list, no match",
                "extra, to split (b): GET /api/v1/machines?role=worker&label=rack%3Dnone: the same scan of the cache as (b), " +
                "an empty result — so (b0) - (a) is about the scan, (b) - (b0) the sort, JSON and transfer of the N machines", options.Rounds),
            new LatencyStats(RequestKind.EtcdGet, "(c) etcd get 1 key",
                $"etcd Range key={Prefix}machines/{{serial}}: one random serial, linearizable (the default), no range_end", options.Rounds),
            new LatencyStats(RequestKind.EtcdPrefixRange, "(d) etcd range N keys",
                $"etcd Range [{Prefix}machines/{{S}}, {Prefix}machines0) limit N, linearizable: the N consecutive machine " +
                "records from a random serial S on, N being the worker count of the rack (b) asked for in the same " +
                "iteration — as many records as (b) returns, but no filtering", options.Rounds),
        };

        progress.WriteLine($"warm-up: {options.Warmup} iterations of (a)-(d) and (b0)");
        var random = new Random(options.Seed);
        for (var i = 0; i < options.Warmup; i++)
        {
            await IterateAsync(requests, http, random, i, null, 0, ct);
        }

        var loadBeforeMeasuring = ProcessCpu.LoadAverage();
        var cpuBefore = CpuNow(server.Pid, etcdPid);
        var measuring = Stopwatch.StartNew();
        for (var round = 0; round < options.Rounds; round++)
        {
            progress.WriteLine($"round {round + 1}/{options.Rounds}: {options.SamplesPerRound} samples of each of (a)-(d) and (b0), interleaved");
            for (var i = 0; i < options.SamplesPerRound; i++)
            {
                await IterateAsync(requests, http, random, i, stats, round, ct);
            }
        }

        var measured = measuring.Elapsed;
        var cpuAfter = CpuNow(server.Pid, etcdPid);

        LatencyStats? whole = null;
        if (options.FullReads > 0)
        {
            whole = new LatencyStats(RequestKind.EtcdWholePrefix, "(e) etcd whole prefix",
                $"etcd Range [{Prefix}machines/, {Prefix}machines0), linearizable: all {fleet.Machines.Count} machine records — " +
                "what a client of raw etcd must read to answer (b) itself, since etcd cannot filter by value", 1);
            progress.WriteLine($"extra: {options.FullReads} whole-prefix reads (e), after the interleaved rounds");
            for (var i = 0; i < options.FullReads; i++)
            {
                var (ns, bytes) = await requests.EtcdWholePrefixAsync(ct);
                whole.Record(0, ns, bytes);
            }
        }

        var loadAtEnd = ProcessCpu.LoadAverage();
        var exitCode = await server.StopAsync();
        progress.WriteLine($"boot server stopped ({(exitCode is { } c ? $"exit code {c}" : "killed after 15 s")})");

        return new BenchResult
        {
            StartedAt = startedAt,
            BootServerDll = dll,
            BootServerConfiguration = RepoPaths.ConfigurationOf(dll),
            BootServerBuiltAt = File.GetLastWriteTimeUtc(dll),
            BenchConfiguration = RepoPaths.Configuration,
            Options = options,
            Cores = Environment.ProcessorCount,
            LoadAtStart = loadAtStart,
            LoadBeforeMeasuring = loadBeforeMeasuring,
            LoadAtEnd = loadAtEnd,
            Registration = registration,
            Kinds = stats,
            WholePrefix = whole,
            MeasuredSeconds = measured.TotalSeconds,
            BootServerCpuSeconds = Delta(cpuBefore.Server, cpuAfter.Server),
            EtcdCpuSeconds = Delta(cpuBefore.Etcd, cpuAfter.Etcd),
            BenchCpuSeconds = Delta(cpuBefore.Self, cpuAfter.Self),
        };
    }

    private static string WorkerCounts(Fleet fleet) =>
        fleet.WorkersPerRack.Min() == fleet.WorkersPerRack.Max()
            ? fleet.WorkersPerRack[0].ToString(CultureInfo.InvariantCulture)
            : $"{fleet.WorkersPerRack.Min()}..{fleet.WorkersPerRack.Max()}";

    private static (TimeSpan? Server, TimeSpan? Etcd, TimeSpan? Self) CpuNow(int serverPid, int? etcdPid) =>
        (ProcessCpu.Read(serverPid), etcdPid is { } p ? ProcessCpu.Read(p) : null, Process.GetCurrentProcess().TotalProcessorTime);

    private static double? Delta(TimeSpan? before, TimeSpan? after) =>
        before is { } b && after is { } a ? (a - b).TotalSeconds : null;

    /// <summary>
    /// One iteration: one request of each interleaved kind, for the same random serial and rack, in an order rotated
    /// every iteration so no kind always runs first or right after another. Recorded when <paramref name="stats"/> is given.
    /// </summary>
    private async Task IterateAsync(Requests requests, HttpClient http, Random random, int iteration, LatencyStats[]? stats, int round, CancellationToken ct)
    {
        var serial = random.Next(requests.Fleet.Machines.Count);
        var rack = requests.Racks[random.Next(requests.Racks.Length)];
        var count = requests.Fleet.WorkersPerRack[rack];
        var start = random.Next(requests.Fleet.Machines.Count - count + 1);
        for (var k = 0; k < Interleaved; k++)
        {
            var kind = (RequestKind)((iteration + k) % Interleaved);
            var (ns, bytes) = kind switch
            {
                RequestKind.GetBySerial => await TimeHttpAsync(http, requests.MachineUris[serial], ct),
                RequestKind.FilteredList => await TimeHttpAsync(http, requests.RackUris[rack], ct),
                RequestKind.EmptyList => await TimeHttpAsync(http, requests.EmptyListUri, ct),
                RequestKind.EtcdGet => await requests.EtcdGetAsync(serial, ct),
                _ => await requests.EtcdRangeAsync(start, count, ct),
            };
            stats?[(int)kind].Record(round, ns, bytes);
        }
    }

    /// <summary>Time to the last byte of the body of a GET; returns it and the body's size. Non-2xx throws.</summary>
    private async Task<(long Nanoseconds, long Bytes)> TimeHttpAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(_buffer, ct)) > 0)
        {
            total += n;
        }

        var ns = Requests.Nanoseconds(started);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {uri} answered {(int)response.StatusCode}");
        }

        return (ns, total);
    }

    private static HttpClient CreateHttpClient(BootServerProcess server)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var roots = server.CaCertificates;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) => BootServerTrust.Validate(roots, cert, errors);
        var http = new HttpClient(handler)
        {
            BaseAddress = server.ApiAddress, // the API is HTTPS only: figures from here on include TLS (one kept-alive connection)
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Token);
        return http;
    }

    private static async Task SendAsync(HttpClient http, HttpMethod method, string path, object body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    private async Task<Registration> RegisterAsync(HttpClient http, Fleet fleet, CancellationToken ct)
    {
        progress.WriteLine($"registering {fleet.Machines.Count} machines in batches of {options.Batch}");
        var watch = Stopwatch.StartNew();
        foreach (var batch in fleet.Machines.Chunk(options.Batch))
        {
            await SendAsync(http, HttpMethod.Post, ApiMachines, Fleet.Specs(batch), ct);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        progress.WriteLine($"registered {fleet.Machines.Count} machines in {seconds:F1} s ({fleet.Machines.Count / seconds:F0} machines/s)");
        return new Registration(fleet.Machines.Count, options.Batch, seconds, fleet.Machines.Count / seconds);
    }

    /// <summary>Every rack's filtered list holds exactly the fleet's workers of that rack (so (b) and (d) compare like with like).</summary>
    private static async Task VerifyFilteredListsAsync(HttpClient http, Fleet fleet, CancellationToken ct)
    {
        for (var rack = 0; rack < Fleet.Racks; rack++)
        {
            var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"{ApiMachines}?role={Fleet.FilterRole}&label=rack%3D{rack}"), UriKind.Relative);
            await using var body = await http.GetStreamAsync(uri, ct);
            using var list = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            var n = list.RootElement.GetArrayLength();
            if (n != fleet.WorkersPerRack[rack])
            {
                throw new InvalidOperationException($"rack {rack}: the API lists {n} workers, the fleet has {fleet.WorkersPerRack[rack]}");
            }
        }
    }

    /// <summary>The prepared requests: URIs and etcd keys for every serial and rack, built before any timing.</summary>
    private sealed class Requests
    {
        private readonly EtcdStore _store;
        private readonly ByteString[] _keys;
        private readonly ByteString _machinesEnd;
        private readonly ByteString _machinesStart;

        public Requests(Uri baseAddress, EtcdStore store, Fleet fleet)
        {
            _store = store;
            Fleet = fleet;
            MachineUris = fleet.Machines.Select(m => new Uri(baseAddress, $"{ApiMachines}/{m.Serial}")).ToArray();
            EmptyListUri = new Uri(baseAddress, $"{ApiMachines}?role={Fleet.FilterRole}&label=rack%3Dnone");
            RackUris = Enumerable.Range(0, Fleet.Racks)
                .Select(r => new Uri(baseAddress, string.Create(CultureInfo.InvariantCulture, $"{ApiMachines}?role={Fleet.FilterRole}&label=rack%3D{r}")))
                .ToArray();
            Racks = Enumerable.Range(0, Fleet.Racks).Where(r => fleet.WorkersPerRack[r] > 0).ToArray();
            _keys = fleet.Machines.Select(m => ByteString.CopyFromUtf8(store.Keys.Machine(m.Serial))).ToArray();
            _machinesStart = ByteString.CopyFromUtf8(store.Keys.MachinesPrefix);
            _machinesEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(store.Keys.MachinesPrefix));
        }

        public Fleet Fleet { get; }

        public Uri[] MachineUris { get; }

        public Uri[] RackUris { get; }

        public Uri EmptyListUri { get; }

        /// <summary>The racks with at least one worker (all of them, but in a small fleet; etcd reads limit 0 as no limit).</summary>
        public int[] Racks { get; }

        public static long Nanoseconds(long startedTimestamp) =>
            (long)((Stopwatch.GetTimestamp() - startedTimestamp) * (1e9 / Stopwatch.Frequency));

        public async Task<(long Nanoseconds, long Bytes)> EtcdGetAsync(int serial, CancellationToken ct)
        {
            var request = new RangeRequest { Key = _keys[serial] };
            var started = Stopwatch.GetTimestamp();
            var response = await _store.RangeAsync(request, ct);
            var ns = Nanoseconds(started);
            return response.Kvs.Count == 1
                ? (ns, response.CalculateSize())
                : throw new InvalidOperationException($"etcd has no {_keys[serial].ToStringUtf8()}");
        }

        public async Task<(long Nanoseconds, long Bytes)> EtcdRangeAsync(int start, int count, CancellationToken ct)
        {
            var request = new RangeRequest { Key = _keys[start], RangeEnd = _machinesEnd, Limit = count };
            var started = Stopwatch.GetTimestamp();
            var response = await _store.RangeAsync(request, ct);
            var ns = Nanoseconds(started);
            return response.Kvs.Count == count
                ? (ns, response.CalculateSize())
                : throw new InvalidOperationException($"etcd returned {response.Kvs.Count} of {count} machines from {_keys[start].ToStringUtf8()}");
        }

        public async Task<(long Nanoseconds, long Bytes)> EtcdWholePrefixAsync(CancellationToken ct)
        {
            var request = new RangeRequest { Key = _machinesStart, RangeEnd = _machinesEnd };
            var started = Stopwatch.GetTimestamp();
            var response = await _store.RangeAsync(request, ct);
            var ns = Nanoseconds(started);
            return response.Kvs.Count == Fleet.Machines.Count
                ? (ns, response.CalculateSize())
                : throw new InvalidOperationException($"etcd returned {response.Kvs.Count} of {Fleet.Machines.Count} machines");
        }
    }
}

internal sealed record Registration(int Machines, int Batch, double Seconds, double MachinesPerSecond);
