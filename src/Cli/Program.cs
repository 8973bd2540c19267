using System.Collections;
using NekkoMetal.Cli;

var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
{
    environment[(string)entry.Key] = (string?)entry.Value;
}

return await CliApp.RunAsync(args, handler: null, Console.Out, Console.Error, environment);
