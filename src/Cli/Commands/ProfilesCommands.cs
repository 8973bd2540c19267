using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl profiles …</c>: the boot profile of each role (kernel, initrds, command line, cloud-init or Ignition template).</summary>
internal static class ProfilesCommands
{
    public static Command Create(CommandRunner runner) => new("profiles", "Set, show, list and delete the boot profiles of roles.")
    {
        Set(runner),
        Get(runner),
        List(runner),
        Delete(runner),
    };

    private static Command Set(CommandRunner runner)
    {
        var role = new Argument<string>("ROLE") { Description = "The role the profile is for (e.g. worker)" };
        var file = new Option<string>("--file", "-f")
        {
            Description = "Send the profile (JSON object: kernel, initrds, cmdline, config, sshAuthorizedKeys) in FILE as is; - reads stdin",
            HelpName = "FILE",
        };
        var kernel = new Option<string>("--kernel") { Description = "Asset name of the kernel", HelpName = "ASSET" };
        var initrds = new Option<string[]>("--initrd") { Description = "Asset name of an initrd; repeat for several, in load order", HelpName = "ASSET" };
        var cmdline = new Option<string>("--cmdline") { Description = "Kernel command line template (Liquid); the datasource argument is appended", HelpName = "TEXT" };
        var userData = new Option<string>("--user-data") { Description = "cloud-init user-data template (Liquid) to read from FILE", HelpName = "FILE" };
        var metaData = new Option<string>("--meta-data") { Description = "cloud-init meta-data template (Liquid) to read from FILE (default: instance-id and local-hostname)", HelpName = "FILE" };
        var ignition = new Option<string>("--ignition") { Description = "Ignition config template (Liquid, spec 3.x JSON) to read from FILE", HelpName = "FILE" };
        var sshKeys = new Option<string[]>("--ssh-keys") { Description = "An authorized_keys FILE whose keys the templates get as ssh_authorized_keys; repeatable", HelpName = "FILE" };
        var expect = new Option<long?>("--expect-version") { Description = "Save only if the stored profile is at this version (409 otherwise)", HelpName = "N" };
        var command = new Command("set", "Create or replace a role's boot profile. Its templates are rendered for a sample machine first; errors are shown and nothing is saved.")
        {
            role, file, kernel, initrds, cmdline, userData, metaData, ignition, sshKeys, expect,
        };
        command.Validators.Add(result =>
        {
            var hasFile = result.GetResult(file) is not null;
            Option[] fields = [kernel, initrds, cmdline, userData, metaData, ignition, sshKeys];
            var hasFields = fields.Any(o => result.GetResult(o) is not null);
            if (hasFile && (hasFields || result.GetResult(expect) is not null))
            {
                result.AddError("-f FILE sends the whole profile: give no other option with it");
            }
            else if (!hasFile)
            {
                if (result.GetResult(kernel) is null)
                {
                    result.AddError("give -f FILE, or --kernel with --user-data or --ignition");
                }
                else if ((result.GetResult(userData) is null) == (result.GetResult(ignition) is null))
                {
                    result.AddError("give exactly one of --user-data (cloud-init) and --ignition");
                }
                else if (result.GetResult(metaData) is not null && result.GetResult(userData) is null)
                {
                    result.AddError("--meta-data goes with --user-data");
                }
            }
        });

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var path = ProfilePaths.Profile(context.Get(role)!);
            JsonNode? profile;
            if (context.Get(file) is { } source)
            {
                var json = await context.ReadJsonFileAsync(source, [JsonValueKind.Object], cancellationToken);
                profile = await context.Api.SendJsonAsync(HttpMethod.Put, path, json, "application/json", cancellationToken);
            }
            else
            {
                var config = new JsonObject();
                if (context.Get(userData) is { } ud)
                {
                    config["kind"] = "cloud-init";
                    config["userData"] = await ReadText(ud, cancellationToken);
                    if (context.Get(metaData) is { } md)
                    {
                        config["metaData"] = await ReadText(md, cancellationToken);
                    }
                }
                else
                {
                    config["kind"] = "ignition";
                    config["ignition"] = await ReadText(context.Get(ignition)!, cancellationToken);
                }

                var keys = new JsonArray();
                foreach (var keyFile in context.Get(sshKeys) ?? [])
                {
                    foreach (var line in (await ReadText(keyFile, cancellationToken)).Split('\n'))
                    {
                        var key = line.Trim();
                        if (key.Length > 0 && !key.StartsWith('#'))
                        {
                            keys.Add(key);
                        }
                    }
                }

                var body = new JsonObject
                {
                    ["kernel"] = context.Get(kernel),
                    ["initrds"] = new JsonArray([.. (context.Get(initrds) ?? []).Select(i => (JsonNode)JsonValue.Create(i))]),
                    ["cmdline"] = context.Get(cmdline) ?? "",
                    ["config"] = config,
                    ["sshAuthorizedKeys"] = keys,
                };
                if (context.Get(expect) is { } version)
                {
                    body["version"] = version;
                }

                profile = await context.Api.SendJsonAsync(HttpMethod.Put, path, body, cancellationToken);
            }

            context.Write(profile, WriteProfiles);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var role = new Argument<string>("ROLE") { Description = "The role" };
        var command = new Command("get", "Show a role's boot profile (-o json for its templates).") { role };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(ProfilePaths.Profile(context.Get(role)!), cancellationToken), WriteProfiles);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List the boot profiles.");
        command.Aliases.Add("ls");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(ProfilePaths.Profiles, cancellationToken), WriteProfiles);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var role = new Argument<string>("ROLE") { Description = "The role" };
        var command = new Command("delete", "Delete a role's boot profile; its machines get no configuration until a new one is set.") { role };
        command.Aliases.Add("rm");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var name = context.Get(role)!;
            var response = await context.Api.DeleteAsync(ProfilePaths.Profile(name), cancellationToken);
            context.Write(response, (stdout, _) => stdout.WriteLine($"profile {TerminalText.Clean(name)} deleted"));

            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<string> ReadText(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot read {path}: {ex.Message}", ex);
        }
    }

    /// <summary>One profile or a list of them as a table.</summary>
    internal static void WriteProfiles(TextWriter writer, JsonNode? node)
    {
        var table = new TextTable("ROLE", "VERSION", "KERNEL", "INITRDS", "CONFIG", "UPDATED", "BY");
        IEnumerable<JsonNode?> items = node is JsonArray array ? array : [node];
        foreach (var p in items)
        {
            table.AddRow(
                JsonText.Scalar(p?["role"]),
                JsonText.Scalar(p?["version"]),
                JsonText.Scalar(p?["kernel"]),
                JsonText.List(p?["initrds"]),
                JsonText.Scalar(p?["config"]?["kind"]),
                JsonText.Time(p?["updatedAt"]),
                JsonText.Scalar(p?["updatedBy"]));
        }

        table.Write(writer);
    }
}
