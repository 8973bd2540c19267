using NekkoMetal.Bench;

var options = BenchOptions.Parse(args, out var error);
if (options is null)
{
    if (error is not null)
    {
        Console.Error.WriteLine($"NekkoMetal.Bench: {error}");
        return 2;
    }

    Console.Out.Write(BenchOptions.Usage);
    return 0;
}

// the whole run is bounded: on the deadline (or Ctrl+C) everything unwinds and the child processes are stopped
using var cts = new CancellationTokenSource(options.Deadline);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

try
{
    var result = await new InventoryBenchmark(options, Console.Out).RunAsync(cts.Token);
    result.Print(Console.Out);
    Console.Out.WriteLine();
    Console.Out.WriteLine($"saved {result.Save(RepoPaths.ResultsDirectory(options.OutputDirectory))}");
    return 0;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine($"NekkoMetal.Bench: stopped after {options.Deadline.TotalSeconds:F0} s (deadline) or by Ctrl+C; no result");
    return 1;
}
