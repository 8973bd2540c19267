using System.Globalization;
using System.Text.Json;

namespace NekkoMetal.Bench;

/// <summary>Everything one run found, printed as a table and saved as JSON.</summary>
internal sealed record BenchResult
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public required DateTimeOffset StartedAt { get; init; }
    public required string BootServerDll { get; init; }
    public required string BootServerConfiguration { get; init; }
    public required DateTimeOffset BootServerBuiltAt { get; init; }
    public required string BenchConfiguration { get; init; }
    public required BenchOptions Options { get; init; }
    public required int Cores { get; init; }
    public required double[] LoadAtStart { get; init; }
    public required double[] LoadBeforeMeasuring { get; init; }
    public required double[] LoadAtEnd { get; init; }
    public required Registration Registration { get; init; }
    public required IReadOnlyList<LatencyStats> Kinds { get; init; }
    public LatencyStats? WholePrefix { get; init; }
    public required double MeasuredSeconds { get; init; }
    public double? BootServerCpuSeconds { get; init; }
    public double? EtcdCpuSeconds { get; init; }
    public double? BenchCpuSeconds { get; init; }

    private LatencyStats Stats(RequestKind kind) => Kinds.Single(k => k.Kind == kind);

    /// <summary>The side-by-side pairs: ours over raw etcd.</summary>
    private IEnumerable<(string Name, LatencyStats Ours, LatencyStats Etcd)> Pairs()
    {
        yield return ("(a)/(c) GET by serial / etcd get", Stats(RequestKind.GetBySerial), Stats(RequestKind.EtcdGet));
        yield return ("(b)/(d) filtered list / etcd range N", Stats(RequestKind.FilteredList), Stats(RequestKind.EtcdPrefixRange));
        if (WholePrefix is { Samples: > 0 } whole)
        {
            yield return ("(b)/(e) filtered list / etcd whole prefix", Stats(RequestKind.FilteredList), whole);
        }
    }

    private static readonly double[] Percentiles = [50, 90, 99];

    public void Print(TextWriter o)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine(string.Create(c, $"NekkoMetal inventory read latency — {StartedAt:yyyy-MM-dd HH:mm:ss} UTC, {Cores} cores, {Registration.Machines} machines"));
        o.WriteLine(string.Create(c, $"boot server: {BootServerDll} ({BootServerConfiguration}, built {BootServerBuiltAt:yyyy-MM-dd HH:mm:ss} UTC); bench client: {BenchConfiguration}"));
        o.WriteLine($"load average (1/5/15 min): at start {Load(LoadAtStart)}, before measuring {Load(LoadBeforeMeasuring)}, at end {Load(LoadAtEnd)}");
        o.WriteLine(string.Create(c, $"registration: {Registration.Machines} machines in batches of {Registration.Batch}: {Registration.Seconds:F1} s, {Registration.MachinesPerSecond:F0} machines/s"));
        o.WriteLine();
        o.WriteLine($"{"kind",-26}{"samples",8}{"p50 µs",10}{"p90 µs",10}{"p99 µs",10}{"max µs",10}{"mean µs",10}{"resp bytes (mean)",19}");
        foreach (var k in WholePrefix is { } w ? Kinds.Append(w) : Kinds)
        {
            o.WriteLine(string.Create(c,
                $"{k.Label,-26}{k.Samples,8}{k.Percentile(50),10:F1}{k.Percentile(90),10:F1}{k.Percentile(99),10:F1}{k.MaxMicroseconds,10:F1}{k.MeanMicroseconds,10:F1}{k.MeanBytes,19:F0}"));
        }

        o.WriteLine();
        o.WriteLine($"{"ratio, ours / raw etcd",-44}{"p50",8}{"p90",8}{"p99",8}{"bytes",8}");
        foreach (var (name, ours, etcd) in Pairs())
        {
            o.WriteLine(string.Create(c,
                $"{name,-44}{ours.Percentile(50) / etcd.Percentile(50),8:F2}{ours.Percentile(90) / etcd.Percentile(90),8:F2}{ours.Percentile(99) / etcd.Percentile(99),8:F2}{ours.MeanBytes / etcd.MeanBytes,8:F2}"));
        }

        o.WriteLine();
        o.WriteLine("p50 per round (µs), to see drift:");
        foreach (var k in Kinds)
        {
            o.WriteLine($"  {k.Label,-24}{string.Join(" ", k.RoundMedians.Select(m => m.ToString("F1", c).PadLeft(9)))}");
        }

        o.WriteLine();
        var requests = Kinds.Sum(k => k.Samples);
        o.WriteLine(string.Create(c, $"measured phase: {MeasuredSeconds:F1} s, {requests} requests; CPU used in it:"));
        o.WriteLine(string.Create(c, $"  boot server {Cpu(BootServerCpuSeconds, Stats(RequestKind.GetBySerial).Samples + Stats(RequestKind.FilteredList).Samples + Stats(RequestKind.EmptyList).Samples, "(a)/(b)/(b0) ")}"));
        o.WriteLine(string.Create(c, $"  etcd        {Cpu(EtcdCpuSeconds, Stats(RequestKind.EtcdGet).Samples + Stats(RequestKind.EtcdPrefixRange).Samples, "(c)/(d) ")}"));
        o.WriteLine(string.Create(c, $"  bench       {Cpu(BenchCpuSeconds, requests, "")}"));
        o.WriteLine();
        o.WriteLine("what each kind is:");
        foreach (var k in WholePrefix is { } w2 ? Kinds.Append(w2) : Kinds)
        {
            o.WriteLine($"  {k.Label}: {k.Description}");
        }

        o.WriteLine("  response bytes: (a)/(b) the HTTP body (JSON, headers not counted); (c)/(d)/(e) the protobuf RangeResponse (gRPC framing not counted)");
    }

    private static string Load(double[] l) =>
        l.Length == 0 ? "?" : string.Join(" ", l.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)));

    private static string Cpu(double? seconds, long requests, string per) =>
        seconds is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"{s:F2} s = {s * 1e6 / Math.Max(1, requests):F0} µs per {per}request")
            : "? (not readable from /proc)";

    /// <summary>Writes inventory-&lt;timestamp&gt;.json into <paramref name="directory"/> and returns its path.</summary>
    public string Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"inventory-{StartedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(ToJson(), Json) + "\n");
        return path;
    }

    private object ToJson()
    {
        static object Kind(LatencyStats k) => new
        {
            kind = k.Label,
            description = k.Description,
            samples = k.Samples,
            p50Us = Round(k.Percentile(50)),
            p90Us = Round(k.Percentile(90)),
            p99Us = Round(k.Percentile(99)),
            maxUs = Round(k.MaxMicroseconds),
            meanUs = Round(k.MeanMicroseconds),
            perRoundP50Us = k.RoundMedians.Select(Round).ToArray(),
            responseBytes = new { mean = Round(k.MeanBytes), min = k.MinBytes, max = k.MaxBytes },
        };

        return new
        {
            benchmark = "inventory-read-latency",
            startedAt = StartedAt,
            machine = new { cores = Cores, loadAverage = new { atStart = LoadAtStart, beforeMeasuring = LoadBeforeMeasuring, atEnd = LoadAtEnd } },
            bootServer = new { dll = BootServerDll, configuration = BootServerConfiguration, builtAt = BootServerBuiltAt },
            benchConfiguration = BenchConfiguration,
            settings = new
            {
                machines = Options.Machines,
                batch = Options.Batch,
                rounds = Options.Rounds,
                samplesPerRound = Options.SamplesPerRound,
                warmupIterations = Options.Warmup,
                wholePrefixReads = Options.FullReads,
                seed = Options.Seed,
            },
            registration = new { machines = Registration.Machines, batch = Registration.Batch, seconds = Round(Registration.Seconds), machinesPerSecond = Round(Registration.MachinesPerSecond) },
            kinds = (WholePrefix is { } w ? Kinds.Append(w) : Kinds).Select(Kind).ToArray(),
            ratios = Pairs().Select(p => new
            {
                pair = p.Name,
                p50 = Round(p.Ours.Percentile(50) / p.Etcd.Percentile(50)),
                p90 = Round(p.Ours.Percentile(90) / p.Etcd.Percentile(90)),
                p99 = Round(p.Ours.Percentile(99) / p.Etcd.Percentile(99)),
                responseBytes = Round(p.Ours.MeanBytes / p.Etcd.MeanBytes),
            }).ToArray(),
            measuredPhase = new
            {
                seconds = Round(MeasuredSeconds),
                cpuSeconds = new { bootServer = BootServerCpuSeconds, etcd = EtcdCpuSeconds, bench = BenchCpuSeconds },
            },
        };
    }

    private static double Round(double v) => double.IsFinite(v) ? Math.Round(v, 2) : 0;
}
