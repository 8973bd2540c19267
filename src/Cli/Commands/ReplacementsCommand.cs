using System.CommandLine;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl replacements</c>: automatic replacements of failed machines by spares, and what is held back.</summary>
internal static class ReplacementsCommand
{
    public static Command Create(CommandRunner runner)
    {
        var command = new Command("replacements", "Show automatic replacements of failed machines by spares (in progress and recent), and failures held back by a safety limit.");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var view = await context.Api.GetAsync(ApiPaths.Replacements, cancellationToken);
            context.Write(view, ResourceTables.WriteReplacements);
            return ExitCodes.Success;
        });
        return command;
    }
}
