using System.Text.Json;
using System.Text.Json.Serialization;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>A check's verdict, in Nagios' four states (a plugin's exit codes 0–3 map onto them in this order).</summary>
[JsonConverter(typeof(CheckStatusJsonConverter))]
internal enum CheckStatus
{
    Ok = 0,
    Warning = 1,
    Critical = 2,

    /// <summary>The check could not tell (input missing or unreadable, sensor absent, timeout); never a failure by itself.</summary>
    Unknown = 3,
}

/// <summary>Statuses in JSON as "ok", "warning", "critical", "unknown".</summary>
internal sealed class CheckStatusJsonConverter() : JsonStringEnumConverter<CheckStatus>(JsonNamingPolicy.CamelCase);

/// <summary>One check's status and a one-line message for people.</summary>
internal sealed record CheckResult(string Name, CheckStatus Status, string Message)
{
    public static CheckResult Ok(string name, string message) => new(name, CheckStatus.Ok, message);

    public static CheckResult Warning(string name, string message) => new(name, CheckStatus.Warning, message);

    public static CheckResult Critical(string name, string message) => new(name, CheckStatus.Critical, message);

    public static CheckResult Unknown(string name, string message) => new(name, CheckStatus.Unknown, message);

    /// <summary>Critical over warning over unknown over ok: the state a set of findings adds up to.</summary>
    public static CheckStatus Worst(IEnumerable<CheckStatus> statuses) =>
        statuses.OrderByDescending(Severity).FirstOrDefault(CheckStatus.Ok);

    private static int Severity(CheckStatus status) => status switch
    {
        CheckStatus.Critical => 3,
        CheckStatus.Warning => 2,
        CheckStatus.Unknown => 1,
        _ => 0,
    };
}

/// <summary>A health check run on the agent's interval: a thin reader of its inputs in front of a pure evaluator.</summary>
internal interface IHealthCheck
{
    /// <summary>One result for most checks; one per script for the script directory.</summary>
    Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken);
}
