using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>
/// The command line: <c>--discovery</c> prints the facts as JSON and exits 0; <c>--once</c> runs the checks, prints
/// the report as JSON and exits with the overall status as a Nagios code (0 ok, 1 warning, 2 critical, 3 unknown);
/// no mode runs the agent until stopped. Every other argument is configuration (<c>--agent:interval=00:00:10</c>).
/// Invalid configuration: the errors on stderr, exit 64 (EX_USAGE).
/// </summary>
internal static class AgentCommand
{
    public const int ConfigurationError = 64;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var discovery = args.Contains("--discovery");
        var once = args.Contains("--once");
        if (args.Contains("--help") || (discovery && once))
        {
            await stderr.WriteLineAsync("usage: nekko-agent [--discovery | --once] [--agent:key=value ...]");
            return discovery && once ? ConfigurationError : 0;
        }

        var settings = new HostApplicationBuilderSettings { Args = [.. args.Where(a => a is not ("--discovery" or "--once"))] };
        var builder = Host.CreateApplicationBuilder(settings);
        builder.Configuration.AddJsonFile("/etc/nekko/agent.json", optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("NEKKO_AGENT_");
        builder.Configuration.AddCommandLine(settings.Args);
        if (discovery || once)
        {
            // stdout is the JSON; logs only on stderr and only when something is wrong
            builder.Logging.ClearProviders();
        }

        builder.AddNodeAgent();
        using var host = builder.Build();
        try
        {
            _ = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            using var stop = new CancellationTokenSource();
            if (discovery)
            {
                var facts = await host.Services.GetRequiredService<FactCollector>().CollectAsync(stop.Token);
                await stdout.WriteLineAsync(JsonSerializer.Serialize(facts, AgentJson.Printed.NodeFacts));
                return 0;
            }

            if (once)
            {
                var report = await host.Services.GetRequiredService<HealthCheckRunner>().RunAsync(stop.Token);
                await stdout.WriteLineAsync(JsonSerializer.Serialize(report, AgentJson.Printed.HealthReport));
                return (int)report.Overall;
            }

            await host.RunAsync();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures)
            {
                await stderr.WriteLineAsync($"nekko-agent: {failure}");
            }

            return ConfigurationError;
        }
    }
}
