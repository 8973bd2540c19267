using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl assets …</c>: the boot servers' asset store (kernels, initrds, images).</summary>
internal static class AssetsCommands
{
    public static Command Create(CommandRunner runner, GlobalOptions options) => new("assets", "Upload, list, show, download and delete boot assets.")
    {
        Upload(runner, options),
        List(runner),
        Get(runner),
        Download(runner, options),
        Delete(runner),
    };

    private static Command Upload(CommandRunner runner, GlobalOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The asset's name: letters, digits, '.', '_', '-' (e.g. debian-12-vmlinuz)" };
        var file = new Argument<string>("FILE") { Description = "The file to upload" };
        var contentType = new Option<string>("--content-type") { Description = "Media type served with it (default application/octet-stream)" };
        var command = new Command("upload", "Upload a file as an asset (creates or replaces it); its SHA-256 is checked by the server.") { name, file, contentType };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var path = context.Get(file)!;
            if (!File.Exists(path))
            {
                throw new CliUsageException($"{path} does not exist or is not a file");
            }

            using var http = TransferHttp(context);
            var result = await Transfer(context, options, http).UploadAsync(context.Get(name)!, path, context.Get(contentType), cancellationToken);
            context.Write(result, WriteAssets);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List assets.");
        command.Aliases.Add("ls");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(AssetPaths.Assets, cancellationToken), WriteAssets);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var name = new Argument<string>("NAME") { Description = "The asset's name" };
        var command = new Command("get", "Show one asset's metadata.") { name };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            context.Write(await context.Api.GetAsync(AssetPaths.Asset(context.Get(name)!), cancellationToken), WriteAssets);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Download(CommandRunner runner, GlobalOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The asset's name" };
        var to = new Argument<string?>("PATH") { Description = "Where to write it (default: ./NAME)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("download", "Download an asset's content; its SHA-256 is checked before the file is written.") { name, to };
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var assetName = context.Get(name)!;
            var path = context.Get(to) is { Length: > 0 } given ? given : assetName;
            if (Directory.Exists(path))
            {
                path = Path.Combine(path, assetName);
            }

            using var http = TransferHttp(context);
            var (sha256, size) = await Transfer(context, options, http).DownloadAsync(assetName, path, null, cancellationToken);
            if (context.Format == OutputFormat.Json)
            {
                JsonOutput.Write(context.Stdout, new JsonObject { ["name"] = assetName, ["path"] = path, ["sha256"] = sha256, ["size"] = size });
            }
            else
            {
                context.Stdout.WriteLine($"{TerminalText.Clean(path)}: {size} bytes, sha256 {sha256}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var name = new Argument<string>("NAME") { Description = "The asset's name" };
        var command = new Command("delete", "Delete an asset; every boot server removes its copy.") { name };
        command.Aliases.Add("rm");
        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var assetName = context.Get(name)!;
            var response = await context.Api.DeleteAsync(AssetPaths.Asset(assetName), cancellationToken);
            context.Write(response, (stdout, _) => stdout.WriteLine($"asset {TerminalText.Clean(assetName)} deleted"));

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A client without the API's 60 s limit (images are large); the test handler when one is given.</summary>
    private static HttpClient TransferHttp(CommandContext context)
    {
        return context.CreateHttpClient(Timeout.InfiniteTimeSpan);
    }

    private static AssetTransferClient Transfer(CommandContext context, GlobalOptions options, HttpClient http)
    {
        var settings = ConnectionSettings.Resolve(context.ParseResult, options, context.Environment);
        return new AssetTransferClient(http, settings.Server, settings.Token, settings.TokenSource, context.Trust);
    }

    /// <summary>One asset or a list of them as a table.</summary>
    internal static void WriteAssets(TextWriter writer, JsonNode? assets)
    {
        var table = new TextTable("NAME", "SIZE", "SHA256", "CONTENT-TYPE", "CREATED", "BY");
        foreach (var asset in assets is JsonArray array ? array.ToList() : [assets])
        {
            if (asset is null)
            {
                continue;
            }

            var sha = JsonText.Scalar(asset["sha256"]);
            table.AddRow(
                JsonText.Scalar(asset["name"]),
                Size(asset["size"]),
                sha.Length > 16 ? sha[..16] + "…" : sha,
                JsonText.Scalar(asset["contentType"]),
                JsonText.Time(asset["createdAt"]),
                JsonText.Scalar(asset["uploadedBy"]));
        }

        table.Write(writer);
    }

    private static string Size(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<long>(out var bytes)
            ? bytes switch
            {
                < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
                < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
                < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
                _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
            }
            : JsonText.Scalar(node);
}
