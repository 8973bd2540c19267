using System.Globalization;

namespace NekkoMetal.Bench;

/// <summary>Command-line settings of the inventory benchmark; every one has a default that matches issue 2.</summary>
internal sealed record BenchOptions
{
    public string? BootServerDll { get; init; } = Environment.GetEnvironmentVariable("NEKKO_BENCH_BOOTSERVER");
    public int Machines { get; init; } = 10_000;
    public int Batch { get; init; } = 500;
    public int Rounds { get; init; } = 5;
    public int SamplesPerRound { get; init; } = 1_000;
    public int Warmup { get; init; } = 1_000;
    public int FullReads { get; init; } = 50;
    public int Seed { get; init; } = 1;
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(5);
    public string? OutputDirectory { get; init; }

    public const string Usage = """
        NekkoMetal.Bench — inventory read latency: nekko-bootserver's admin API against raw etcd, interleaved in one run.

        Options:
          --bootserver DLL   nekko-bootserver.dll to run (env NEKKO_BENCH_BOOTSERVER; default: the repo's
                             src/BootServer/bin/<this build's configuration>/net10.0/nekko-bootserver.dll)
          --machines N       machines to register (default 10000)
          --batch N          machines per registration request (default 500)
          --rounds N         interleaved measuring rounds (default 5)
          --samples N        samples of each kind per round (default 1000)
          --warmup N         unrecorded iterations of each kind before measuring (default 1000)
          --full-reads N     extra: whole-prefix etcd reads of all machines, after the rounds (default 50; 0 = none)
          --seed N           seed of the random sequence of serials and racks asked for (default 1)
          --deadline SEC     the whole run stops after this many seconds (default 300)
          --out DIR          where the JSON result goes (default <repo>/bench/results)
        """;

    /// <summary>Parses <paramref name="args"/>; null with <paramref name="error"/> set when they are wrong, or for --help.</summary>
    public static BenchOptions? Parse(string[] args, out string? error)
    {
        var o = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                return null;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return null;
            }

            var value = args[++i];
            switch (name)
            {
                case "--bootserver":
                    o = o with { BootServerDll = value };
                    break;
                case "--out":
                    o = o with { OutputDirectory = value };
                    break;
                case "--machines" or "--batch" or "--rounds" or "--samples" or "--warmup" or "--full-reads" or "--seed" or "--deadline":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                        || (n == 0 && name is not ("--full-reads" or "--warmup" or "--seed")))
                    {
                        error = $"{name} must be a positive whole number, not '{value}'";
                        return null;
                    }

                    o = name switch
                    {
                        "--machines" => o with { Machines = n },
                        "--batch" => o with { Batch = n },
                        "--rounds" => o with { Rounds = n },
                        "--samples" => o with { SamplesPerRound = n },
                        "--warmup" => o with { Warmup = n },
                        "--full-reads" => o with { FullReads = n },
                        "--seed" => o with { Seed = n },
                        _ => o with { Deadline = TimeSpan.FromSeconds(n) },
                    };
                    break;
                default:
                    error = $"unknown option '{name}'";
                    return null;
            }
        }

        if (o.Machines < 200)
        {
            error = "--machines must be at least 200 (100 racks, and the prefix range needs room to start at random)";
            return null;
        }

        return o;
    }
}
