using System.CommandLine;
using System.CommandLine.Invocation;
using NekkoMetal.Cli.Commands;

namespace NekkoMetal.Cli;

/// <summary>
/// nekkoctl as a library: parses <c>args</c>, talks to the boot server's admin API and writes to the
/// given writers, so tests (and the boot server's end-to-end tests, with TestServer's handler) run it in process.
/// </summary>
public static class CliApp
{
    /// <summary>Runs one nekkoctl command line and returns its exit code (see <c>src/Cli/README.md</c>).</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="handler">The HTTP handler to send requests through; <c>null</c> for a real socket handler.</param>
    /// <param name="stdout">Where results and help go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="env">Environment variables (NEKKO_SERVER, NEKKO_TOKEN, NEKKO_TOKEN_FILE, NEKKO_DATA_DIR).</param>
    /// <param name="cancellationToken">Cancels an in-flight request.</param>
    public static Task<int> RunAsync(
        string[] args,
        HttpMessageHandler? handler,
        TextWriter stdout,
        TextWriter stderr,
        IReadOnlyDictionary<string, string?> env,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(env);

        // `-f -` is the only reader of standard input; it is opened only then.
        var environment = new CliEnvironment(stdout, stderr, env, handler, TimeProvider.System, static () => Console.In);
        return RunAsync(args, environment, cancellationToken);
    }

    internal static async Task<int> RunAsync(IReadOnlyList<string> args, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var root = NekkoctlCommand.Create(environment);

        // No @response-files: a serial or label value starting with '@' must stay a value.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Action is ParseErrorAction)
        {
            UsageErrors.Write(parseResult, environment.Stderr);
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = environment.Stdout,
            Error = environment.Stderr,
            // Bugs surface as exceptions; expected failures are CliExceptions mapped to exit codes by CommandRunner.
            EnableDefaultExceptionHandler = false,
            // No process-wide Ctrl+C hook: CliApp also runs inside test hosts.
            ProcessTerminationTimeout = null,
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken);
    }
}
