using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary>
/// <c>nekkoctl discovery …</c>: machines that network-booted and reported themselves while the boot server runs
/// with <c>--discovery-auto-accept false</c>, waiting for an admin to accept (register) or reject them.
/// </summary>
internal static class DiscoveryCommands
{
    public static Command Create(CommandRunner runner) => new("discovery", "List, accept and reject discovered machines waiting for approval.")
    {
        Pending(runner),
        Accept(runner),
        Reject(runner),
    };

    private static Command Pending(CommandRunner runner)
    {
        var command = new Command("pending", "List machines that reported themselves and wait for approval.");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var pending = await context.Api.GetAsync(DiscoveryPaths.Pending, cancellationToken);
            context.Write(pending, WritePending);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Accept(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command("accept", "Register a pending machine (state uninitialized, with an IPAM address).") { serial };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var name = context.Get(serial)!;
            var response = await context.Api.SendJsonAsync(HttpMethod.Post, DiscoveryPaths.Accept(name), new JsonObject(), cancellationToken);
            if (context.Format == OutputFormat.Json)
            {
                JsonOutput.Write(context.Stdout, response);
            }
            else
            {
                var registered = JsonText.String(response, "serial") ?? name;
                var created = response?["created"] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;
                var what = created ? "registered" : "already registered, facts updated";
                context.Stdout.WriteLine(TerminalText.Clean(
                    $"machine {registered} accepted: {what}, ipv4 {JsonText.List(response?["ipv4"])}"));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Reject(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command("reject", "Forget a pending machine's report (it reports again at its next network boot).") { serial };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var name = context.Get(serial)!;
            var response = await context.Api.DeleteAsync(DiscoveryPaths.PendingMachine(name), cancellationToken);
            context.Write(response, (stdout, _) => stdout.WriteLine($"pending machine {TerminalText.Clean(name)} rejected"));

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> SerialArgument() =>
        new("SERIAL") { Description = "The pending machine's serial, as `discovery pending` lists it" };

    /// <summary>One row per pending report: who it says it is, what it is, when it came.</summary>
    internal static void WritePending(TextWriter writer, JsonNode? pending)
    {
        var table = new TextTable("SERIAL", "UUID", "MACS", "PRODUCT", "CPU", "MEMORY", "RECEIVED");
        foreach (var item in pending as JsonArray ?? [])
        {
            var report = item?["report"];
            var hardware = report?["hardware"];
            table.AddRow(
                JsonText.Scalar(item?["serial"]),
                JsonText.Scalar(report?["uuid"]),
                JsonText.List(report?["macs"]),
                Product(hardware),
                JsonText.Scalar(hardware?["cpu"]?["model"]),
                Memory(hardware?["memoryBytes"]),
                JsonText.Time(item?["receivedAt"]));
        }

        table.Write(writer);
    }

    private static string Product(JsonNode? hardware)
    {
        var parts = new[] { JsonText.String(hardware, "vendor"), JsonText.String(hardware, "product") }
            .Where(part => !string.IsNullOrWhiteSpace(part));
        var text = string.Join(' ', parts);
        return text.Length == 0 ? JsonText.None : text;
    }

    /// <summary>Bytes as GiB with one decimal (what people compare machines by); anything else as is.</summary>
    private static string Memory(JsonNode? bytes) =>
        bytes is JsonValue value && value.TryGetValue<long>(out var count)
            ? (count / (1024.0 * 1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB"
            : JsonText.Scalar(bytes);
}
