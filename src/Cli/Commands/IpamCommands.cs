using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl ipam …</c>: the subnets node addresses are allocated from.</summary>
internal static class IpamCommands
{
    public static Command Create(CommandRunner runner) => new("ipam", "Show or replace the IPAM configuration (subnets).")
    {
        Get(runner),
        Set(runner),
    };

    private static Command Get(CommandRunner runner)
    {
        var command = new Command("get", "Show the subnets.");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var ipam = await context.Api.GetAsync(ApiPaths.Ipam, cancellationToken);
            context.Write(ipam, ResourceTables.WriteIpam);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CommandRunner runner)
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "Send the IPAM configuration (JSON object) in FILE as is; - reads stdin",
            HelpName = "FILE",
        };
        var subnets = SyntaxOptions.Subnets("--subnet", "A subnet; repeat for several. The given subnets replace all existing ones");
        var command = new Command("set", "Replace the IPAM configuration.") { file, subnets };
        command.Validators.Add(result =>
        {
            var hasFile = result.GetResult(file) is not null;
            var hasSubnets = result.GetResult(subnets) is not null;
            if (hasFile == hasSubnets)
            {
                result.AddError("give either -f FILE or one or more --subnet");
            }
        });

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            JsonNode? ipam;
            if (context.Get(file) is { } path)
            {
                var json = await context.ReadJsonFileAsync(path, [JsonValueKind.Object], cancellationToken);
                ipam = await context.Api.SendJsonAsync(HttpMethod.Put, ApiPaths.Ipam, json, "application/json", cancellationToken);
            }
            else
            {
                var body = new JsonObject
                {
                    ["subnets"] = new JsonArray([.. context.Get(subnets)!.Select(subnet => (JsonNode)subnet.ToJson())]),
                };
                ipam = await context.Api.SendJsonAsync(HttpMethod.Put, ApiPaths.Ipam, body, cancellationToken);
            }

            if (ipam is not null)
            {
                context.Write(ipam, ResourceTables.WriteIpam);
            }
            else if (context.Format == OutputFormat.Table)
            {
                context.Stdout.WriteLine("IPAM configuration replaced");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
