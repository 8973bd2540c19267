using System.CommandLine;
using System.Globalization;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary><c>nekkoctl audit</c>: who changed what, when.</summary>
internal static class AuditCommand
{
    public static Command Create(CommandRunner runner)
    {
        var serial = new Option<string>("--serial") { Description = "Only entries about this machine", HelpName = "SERIAL" };
        var since = SyntaxOptions.Time("--since", "Entries at or after TIME: ISO 8601 (2026-01-02T15:04:05Z) or a duration before now (30m, 1h, 2d)");
        var until = SyntaxOptions.Time("--until", "Entries before TIME, same forms as --since");
        var limit = SyntaxOptions.Number("--limit", "At most N entries", minimum: 1);
        var command = new Command("audit", "Show the audit log.") { serial, since, until, limit };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var time = context.Environment.Time;
            var query = new QueryString()
                .Add("serial", context.Get(serial))
                .Add("since", context.Get(since)?.ToQueryValue(time))
                .Add("until", context.Get(until)?.ToQueryValue(time))
                .Add("limit", context.Get(limit)?.ToString(CultureInfo.InvariantCulture));
            var entries = await context.Api.GetAsync(ApiPaths.Audit + query, cancellationToken);
            context.Write(entries, ResourceTables.WriteAudit);
            return ExitCodes.Success;
        });
        return command;
    }
}
