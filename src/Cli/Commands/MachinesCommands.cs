using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;
using NekkoMetal.Cli.Syntax;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl machines …</c>: the inventory.</summary>
internal static class MachinesCommands
{
    public static Command Create(CommandRunner runner) => new("machines", "Register, inspect, label and remove machines.")
    {
        List(runner),
        Get(runner),
        Add(runner),
        SetState(runner),
        Label(runner),
        Reinstall(runner),
        Health(runner),
        Remove(runner),
    };

    private static Command List(CommandRunner runner)
    {
        var role = new Option<string>("--role") { Description = "Only machines with this role", HelpName = "ROLE" };
        var state = new Option<string>("--state") { Description = "Only machines in this state", HelpName = "STATE" };
        var labels = SyntaxOptions.Labels("--label", "Only machines with this label; repeat to require several");
        var serial = new Option<string>("--serial") { Description = "Only the machine with this serial", HelpName = "SERIAL" };
        var mac = new Option<string>("--mac") { Description = "Only the machine with this MAC address", HelpName = "MAC" };
        var command = new Command("list", "List machines, sorted by serial.") { role, state, labels, serial, mac };
        command.Aliases.Add("ls");

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var query = new QueryString()
                .Add("role", context.Get(role))
                .Add("state", context.Get(state))
                .AddEach("label", (context.Get(labels) ?? []).Select(label => $"{label.Key}={label.Value}"))
                .Add("serial", context.Get(serial))
                .Add("mac", context.Get(mac));
            var machines = await context.Api.GetAsync(ApiPaths.Machines + query, cancellationToken);
            context.Write(machines, ResourceTables.WriteMachines);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command("get", "Show every field of one machine, hardware facts and boot progress included.") { serial };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var path = ApiPaths.Machine(context.Get(serial)!);
            var machine = await context.Api.GetAsync(path, cancellationToken);
            context.Write(machine, JsonFlattener.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Add(CommandRunner runner)
    {
        var serial = new Argument<string>("SERIAL") { Description = "The machine's SMBIOS serial", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string>("--file", "-f")
        {
            Description = "Register the machine (JSON object) or machines (JSON array) in FILE, sent as is; - reads stdin",
            HelpName = "FILE",
        };
        var macs = new Option<string[]>("--mac") { Description = "A MAC address; repeatable, at least one", HelpName = "MAC" };
        var role = new Option<string>("--role") { Description = "Role (boot profile), e.g. worker", HelpName = "ROLE" };
        var labels = SyntaxOptions.Labels("--label", "A label; repeatable");
        var uuid = new Option<string>("--uuid") { Description = "SMBIOS system UUID", HelpName = "UUID" };
        var site = new Option<string>("--site") { Description = "Site", HelpName = "SITE" };
        var rack = SyntaxOptions.Number("--rack", "Rack number", minimum: 0);
        var index = SyntaxOptions.Number("--index", "Index in the rack", minimum: 0);
        var wolMac = new Option<string>("--wol-mac") { Description = "MAC address to send Wake-on-LAN packets to", HelpName = "MAC" };
        Option[] machineOptions = [macs, role, labels, uuid, site, rack, index, wolMac];

        var command = new Command("add", "Register a machine (SERIAL --mac MAC …) or machines from a JSON file (-f FILE).")
        {
            serial, file, macs, role, labels, uuid, site, rack, index, wolMac,
        };
        command.Validators.Add(result =>
        {
            var hasSerial = result.GetResult(serial) is { Tokens.Count: > 0 };
            if (result.GetResult(file) is not null)
            {
                if (hasSerial || machineOptions.Any(option => result.GetResult(option) is not null))
                {
                    result.AddError("-f FILE cannot be combined with SERIAL or machine options");
                }
            }
            else if (!hasSerial)
            {
                result.AddError("give SERIAL --mac MAC, or -f FILE");
            }
            else if (result.GetResult(macs) is null)
            {
                result.AddError("--mac is required with SERIAL");
            }
        });

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            JsonNode? created;
            if (context.Get(file) is { } path)
            {
                var json = await context.ReadJsonFileAsync(path, [JsonValueKind.Object, JsonValueKind.Array], cancellationToken);
                created = await context.Api.SendJsonAsync(HttpMethod.Post, ApiPaths.Machines, json, "application/json", cancellationToken);
            }
            else
            {
                var body = new JsonObject { ["serial"] = context.Get(serial) };
                AddIfPresent(body, "uuid", context.Get(uuid));
                body["macs"] = new JsonArray([.. context.Get(macs)!.Select(m => (JsonNode)m)]);
                AddIfPresent(body, "role", context.Get(role));
                if (context.Get(labels) is { Count: > 0 } given)
                {
                    body["labels"] = LabelsObject(given.Select(label => new LabelChange(label.Key, label.Value)));
                }

                AddIfPresent(body, "site", context.Get(site));
                if (context.Get(rack) is { } rackNumber)
                {
                    body["rack"] = rackNumber;
                }

                if (context.Get(index) is { } indexNumber)
                {
                    body["index"] = indexNumber;
                }

                if (context.Get(wolMac) is { } wol)
                {
                    body["power"] = new JsonObject { ["wolMac"] = wol };
                }

                created = await context.Api.SendJsonAsync(HttpMethod.Post, ApiPaths.Machines, body, cancellationToken);
            }

            context.Write(created, ResourceTables.WriteMachines);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command SetState(CommandRunner runner)
    {
        var serial = SerialArgument();
        var state = new Argument<string>("STATE") { Description = "The new state, e.g. healthy, unhealthy, retiring, retired" };
        var reason = new Option<string>("--reason") { Description = "Why, recorded in the audit log", HelpName = "TEXT" };
        var command = new Command("set-state", "Move a machine to another lifecycle state.") { serial, state, reason };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var path = ApiPaths.MachineState(context.Get(serial)!);
            var body = new JsonObject { ["state"] = context.Get(state) };
            AddIfPresent(body, "reason", context.Get(reason));
            var machine = await context.Api.SendJsonAsync(HttpMethod.Put, path, body, cancellationToken);
            WriteMachineOrMessage(context, machine, $"machine {context.Get(serial)} is now {context.Get(state)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Label(CommandRunner runner)
    {
        var serial = SerialArgument();
        var changes = SyntaxOptions.LabelChanges("CHANGE", "KEY=VALUE sets a label, KEY- removes it");
        var command = new Command("label", "Set or remove labels (JSON merge patch; other labels are kept).") { serial, changes };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var path = ApiPaths.Machine(context.Get(serial)!);
            var body = new JsonObject { ["labels"] = LabelsObject(context.Get(changes)!) };
            var machine = await context.Api.SendJsonAsync(
                HttpMethod.Patch, path, body.ToJsonString(JsonOutput.CompactOptions), "application/merge-patch+json", cancellationToken);
            WriteMachineOrMessage(context, machine, $"machine {context.Get(serial)} labelled");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Reinstall(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command(
            "reinstall", "Make the machine install its role's boot profile again at its next network boot (it boots from its local disk once installed).")
        {
            serial,
        };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var name = context.Get(serial)!;
            var status = await context.Api.SendJsonAsync(HttpMethod.Post, ApiPaths.MachineReinstall(name), new JsonObject(), cancellationToken);
            context.Write(status, (stdout, _) => stdout.WriteLine(TerminalText.Clean(ReinstallMessage(name, status))));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What <c>machines reinstall</c> says: what the machine's next network boot does.</summary>
    private static string ReinstallMessage(string serial, JsonNode? status)
    {
        var role = status?["role"]?.GetValue<string>();
        var version = status?["profileVersion"]?.GetValue<long>();
        if (status?["due"]?.GetValue<bool>() == true)
        {
            return $"machine {serial} installs role {role} (profile version {version}) at its next network boot";
        }

        return role is null
            ? $"machine {serial} has no role: its next network boot has nothing to install"
            : $"role {role} has no boot profile: machine {serial}'s next network boot has nothing to install";
    }

    private static Command Health(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command(
            "health", "Show the machine's last heartbeat and checks, its state, and the state setter's limits.")
        {
            serial,
        };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var health = await context.Api.GetAsync(ApiPaths.MachineHealth(context.Get(serial)!), cancellationToken);
            context.Write(health, ResourceTables.WriteMachineHealth);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CommandRunner runner)
    {
        var serial = SerialArgument();
        var command = new Command("remove", "Delete a machine from the inventory (only retired machines can be removed).") { serial };
        command.Aliases.Add("rm");

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var name = context.Get(serial)!;
            var response = await context.Api.DeleteAsync(ApiPaths.Machine(name), cancellationToken);
            context.Write(response, (stdout, _) => stdout.WriteLine($"machine {TerminalText.Clean(name)} removed"));

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> SerialArgument() => new("SERIAL") { Description = "The machine's serial" };

    private static JsonObject LabelsObject(IEnumerable<LabelChange> changes)
    {
        var labels = new JsonObject();
        foreach (var change in changes)
        {
            labels[change.Key] = change.Value;
        }

        return labels;
    }

    private static void AddIfPresent(JsonObject body, string name, string? value)
    {
        if (value is not null)
        {
            body[name] = value;
        }
    }

    /// <summary>Shows the machine the server returned, or <paramref name="message"/> when it returned no body.</summary>
    private static void WriteMachineOrMessage(CommandContext context, JsonNode? machine, string message)
    {
        if (machine is not null)
        {
            context.Write(machine, ResourceTables.WriteMachines);
        }
        else if (context.Format == OutputFormat.Table)
        {
            context.Stdout.WriteLine(TerminalText.Clean(message));
        }
    }
}
