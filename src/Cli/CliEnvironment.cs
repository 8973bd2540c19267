namespace NekkoMetal.Cli;

/// <summary>Everything nekkoctl takes from its process: writers, stdin, environment variables, clock and HTTP handler.</summary>
/// <param name="Stdout">Results and help.</param>
/// <param name="Stderr">Errors and hints.</param>
/// <param name="Variables">Environment variables; empty values count as unset.</param>
/// <param name="Handler">HTTP handler; <c>null</c> for a real <see cref="SocketsHttpHandler"/>.</param>
/// <param name="Time">The clock, used for relative times such as <c>--since 1h</c>.</param>
/// <param name="OpenStdin">Opens standard input, for <c>-f -</c>.</param>
internal sealed record CliEnvironment(
    TextWriter Stdout,
    TextWriter Stderr,
    IReadOnlyDictionary<string, string?> Variables,
    HttpMessageHandler? Handler,
    TimeProvider Time,
    Func<TextReader> OpenStdin)
{
    public string? GetVariable(string name) =>
        Variables.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
