using System.CommandLine;

namespace NekkoMetal.Cli.Commands;

/// <summary>
/// Runs command actions: gives each a <see cref="CommandContext"/> and turns the one expected failure type,
/// <see cref="CliException"/>, into its message on stderr and its exit code. This is the only catch.
/// </summary>
internal sealed class CommandRunner(GlobalOptions options, CliEnvironment environment)
{
    public void SetAction(Command command, Func<CommandContext, CancellationToken, Task<int>> action) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, action, cancellationToken));

    private async Task<int> RunAsync(ParseResult parseResult, Func<CommandContext, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        using var context = new CommandContext(parseResult, options, environment);
        try
        {
            return await action(context, cancellationToken);
        }
        catch (CliException ex)
        {
            ex.WriteTo(environment.Stderr);
            return ex.ExitCode;
        }
    }
}
