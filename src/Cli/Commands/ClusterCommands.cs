using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl cluster …</c>: the Kubernetes cluster definition, the installer's status and its operation history.</summary>
internal static class ClusterCommands
{
    public static Command Create(CommandRunner runner) => new("cluster", "Define the Kubernetes cluster the boot servers install, and watch the installer.")
    {
        Get(runner),
        Set(runner),
        Status(runner),
        History(runner),
    };

    private static Command Get(CommandRunner runner)
    {
        var command = new Command("get", "Show the cluster definition (-o json for the document to edit and send back with 'cluster set').");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(ClusterPaths.Cluster, cancellationToken), ClusterTables.WriteDefinition);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CommandRunner runner)
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "The cluster definition (JSON object, as 'cluster get -o json' prints it) in FILE; - reads stdin",
            HelpName = "FILE",
            Required = true,
        };
        var command = new Command("set", "Create or replace the cluster definition. The server checks it first: every problem is shown and nothing is saved.") { file };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var json = await context.ReadJsonFileAsync(context.Get(file)!, [JsonValueKind.Object], cancellationToken);
            var stored = await context.Api.SendJsonAsync(HttpMethod.Put, ClusterPaths.Cluster, json, "application/json", cancellationToken);
            context.Write(stored, (stdout, d) => stdout.WriteLine(TerminalText.Clean(
                $"cluster {JsonText.Scalar(d?["name"])} saved: kubernetes {JsonText.Scalar(d?["kubernetesVersion"])}, etcd {JsonText.Scalar(d?["etcdVersion"])}; 'nekkoctl cluster status' shows the installer's progress")));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Status(CommandRunner runner)
    {
        var command = new Command("status", "Show the installer's view: nodes and components (unit state, health, versions), phase, next operations, what is held back, the last operation and recent errors.");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(ClusterPaths.Status, cancellationToken), ClusterTables.WriteStatus);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command History(CommandRunner runner)
    {
        var limit = SyntaxOptions.Number("--limit", "The newest N operations (default 100, at most 1000)", minimum: 1);
        var command = new Command("history", "Show the installer's operations as run, oldest first, with their outcome.") { limit };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var query = new QueryString().Add("limit", context.Get(limit)?.ToString(CultureInfo.InvariantCulture));
            context.Write(await context.Api.GetAsync(ClusterPaths.History + query, cancellationToken), ClusterTables.WriteHistory);
            return ExitCodes.Success;
        });
        return command;
    }
}
