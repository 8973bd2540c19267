using Microsoft.Extensions.Time.Testing;

namespace NekkoMetal.Cli.Tests.TestKit;

/// <summary>Runs nekkoctl in process against a <see cref="RecordingHandler"/>, fake time and a given environment.</summary>
internal sealed class CliHarness
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public RecordingHandler Handler { get; } = new();

    public FakeTimeProvider Time { get; } = new(Now);

    /// <summary>Environment variables; a token is set so commands reach the handler unless a test removes it.</summary>
    public Dictionary<string, string?> Env { get; } = new(StringComparer.Ordinal) { ["NEKKO_TOKEN"] = "test-token" };

    public string Stdin { get; set; } = "";

    public async Task<CliResult> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr, Env, Handler, Time, () => new StringReader(Stdin));
        var exitCode = await CliApp.RunAsync(args, environment, CancellationToken.None);
        return new CliResult(exitCode, stdout.ToString().ReplaceLineEndings("\n"), stderr.ToString().ReplaceLineEndings("\n"));
    }
}

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);
