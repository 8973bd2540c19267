using System.CommandLine;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl tokens …</c>: admin API bearer tokens.</summary>
internal static class TokensCommands
{
    public static Command Create(CommandRunner runner) => new("tokens", "List, create and delete admin API tokens.")
    {
        List(runner),
        CreateToken(runner),
        Delete(runner),
    };

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List tokens (names and roles; never the secrets).");
        command.Aliases.Add("ls");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var tokens = await context.Api.GetAsync(ApiPaths.Tokens, cancellationToken);
            context.Write(tokens, ResourceTables.WriteTokens);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateToken(CommandRunner runner)
    {
        var name = new Argument<string>("NAME") { Description = "A name for the token, e.g. the person or job using it" };
        var role = new Option<string>("--role")
        {
            Description = "admin may change everything, viewer may only read",
            Required = true,
        }.AcceptOnlyFromAmong("admin", "viewer");
        var command = new Command("create", "Create a token. The secret is printed once, on stdout.") { name, role };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var body = new JsonObject { ["name"] = context.Get(name), ["role"] = context.Get(role) };
            var created = await context.Api.SendJsonAsync(HttpMethod.Post, ApiPaths.Tokens, body, cancellationToken);
            var secret = JsonText.String(created, "token");
            if (context.Format == OutputFormat.Json)
            {
                JsonOutput.Write(context.Stdout, created);
            }
            else if (secret is not null)
            {
                // Alone on stdout, so TOKEN=$(nekkoctl tokens create ci --role viewer) captures just the secret.
                context.Stdout.WriteLine(TerminalText.Clean(secret));
            }
            else
            {
                ResourceTables.WriteTokens(context.Stdout, created);
            }

            if (secret is not null)
            {
                context.Stderr.WriteLine($"token {TerminalText.Clean(context.Get(name)!)} created; it is shown only once, store it now");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var name = new Argument<string>("NAME") { Description = "The token's name" };
        var command = new Command("delete", "Delete a token; requests carrying it are refused from then on.") { name };
        command.Aliases.Add("rm");

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var tokenName = context.Get(name)!;
            var response = await context.Api.DeleteAsync(ApiPaths.Token(tokenName), cancellationToken);
            context.Write(response, (stdout, _) => stdout.WriteLine($"token {TerminalText.Clean(tokenName)} deleted"));

            return ExitCodes.Success;
        });
        return command;
    }
}
