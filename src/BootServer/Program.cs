using System.Collections;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer;
using NekkoMetal.BootServer.Configuration;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.Out.Write(BootServerSettings.Help());
    return 0;
}

var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => e.Value as string, StringComparer.Ordinal);
var (settings, configFile, errors, hostArgs) = BootServerSettings.Parse(args, environment);
if (configFile is not null && !File.Exists(configFile))
{
    errors.Add($"config file '{configFile}' does not exist");
}

if (errors.Count > 0)
{
    errors.ForEach(e => Console.Error.WriteLine($"nekko-bootserver: {e}"));
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = [.. hostArgs],
    ContentRootPath = hostArgs.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase)) ? null : AppContext.BaseDirectory,
});
if (configFile is not null)
{
    builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
}

builder.Configuration.AddInMemoryCollection(settings);
builder.AddBootServer();
try
{
    var app = builder.Build();
    app.MapBootServer();
    await app.RunAsync();
}
catch (OptionsValidationException e)
{
    foreach (var failure in e.Failures)
    {
        Console.Error.WriteLine($"nekko-bootserver: {failure}");
    }

    return 2;
}

return Environment.ExitCode;

/// <summary>The boot server host; public so tests can start it in process.</summary>
public partial class Program;
