using System.CommandLine;
using System.CommandLine.Parsing;

namespace NekkoMetal.Cli.Commands;

/// <summary>Prints parse errors (exit code 2) with a pointer to the failing command's help.</summary>
internal static class UsageErrors
{
    public static void Write(ParseResult parseResult, TextWriter stderr)
    {
        foreach (var error in parseResult.Errors)
        {
            stderr.WriteLine($"error: {error.Message}");
        }

        var names = new List<string>();
        for (SymbolResult? result = parseResult.CommandResult; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                names.Insert(0, command.Command.Name);
            }
        }

        stderr.WriteLine($"Run '{string.Join(' ', names)} --help' for usage.");
    }
}
