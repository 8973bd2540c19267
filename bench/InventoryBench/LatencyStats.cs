using HdrHistogram;

namespace NekkoMetal.Bench;

/// <summary>The kinds of request measured; (a)–(d) and (b0) are interleaved, (e) runs alone after them.</summary>
internal enum RequestKind
{
    GetBySerial,
    FilteredList,
    EmptyList,
    EtcdGet,
    EtcdPrefixRange,
    EtcdWholePrefix,
}

/// <summary>Latencies of one kind of request (in nanoseconds, 3 significant digits), overall and per round, and response sizes.</summary>
internal sealed class LatencyStats
{
    private const long Highest = 60_000_000_000; // 60 s
    private readonly LongHistogram _all = new(1, Highest, 3);
    private readonly LongHistogram[] _rounds;
    private long _bytes;
    private long _minBytes = long.MaxValue;
    private long _maxBytes;

    public LatencyStats(RequestKind kind, string label, string description, int rounds)
    {
        Kind = kind;
        Label = label;
        Description = description;
        _rounds = Enumerable.Range(0, rounds).Select(_ => new LongHistogram(1, Highest, 3)).ToArray();
    }

    public RequestKind Kind { get; }

    /// <summary>Short name for the table.</summary>
    public string Label { get; }

    /// <summary>Exactly what one request of this kind asks and reads.</summary>
    public string Description { get; }

    public long Samples => _all.TotalCount;

    public void Record(int round, long nanoseconds, long responseBytes)
    {
        var v = Math.Clamp(nanoseconds, 1, Highest);
        _all.RecordValue(v);
        _rounds[round].RecordValue(v);
        _bytes += responseBytes;
        _minBytes = Math.Min(_minBytes, responseBytes);
        _maxBytes = Math.Max(_maxBytes, responseBytes);
    }

    public double Percentile(double p) => Samples == 0 ? double.NaN : _all.GetValueAtPercentile(p) / 1000.0;

    public double MaxMicroseconds => Samples == 0 ? double.NaN : _all.GetMaxValue() / 1000.0;

    public double MeanMicroseconds => Samples == 0 ? double.NaN : _all.GetMean() / 1000.0;

    public double[] RoundMedians => _rounds.Where(r => r.TotalCount > 0).Select(r => r.GetValueAtPercentile(50) / 1000.0).ToArray();

    public double MeanBytes => Samples == 0 ? 0 : (double)_bytes / Samples;

    public long MinBytes => Samples == 0 ? 0 : _minBytes;

    public long MaxBytes => _maxBytes;
}
