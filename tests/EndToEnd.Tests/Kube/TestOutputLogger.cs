using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>Writes log lines to the test output (and to stdout, so a long run can be followed), with seconds since start.</summary>
internal sealed class TestOutputLoggerFactory(ITestOutputHelper output) : ILoggerFactory
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Write(string line)
    {
        var text = $"[{_clock.Elapsed.TotalSeconds,7:0.0}] {line}";
        try
        {
            output.WriteLine(text);
        }
        catch (InvalidOperationException)
        {
            // the test has finished
        }

        Console.WriteLine(text);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(TestOutputLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                factory.Write($"{category} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " — " + exception.Message)}");
            }
        }
    }
}
