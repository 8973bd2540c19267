using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.History;

public enum OperationOutcome
{
    Succeeded,
    Failed,

    /// <summary>Not run because an earlier operation of its batch failed.</summary>
    Skipped,
}

/// <summary>One operation as run: what (without file contents), on which nodes, when, and how it ended.</summary>
public sealed record OperationRecord(
    ClusterPhase Phase,
    OperationKind Kind,
    IReadOnlyList<string> Nodes,
    string Description,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    OperationOutcome Outcome,
    string? Error)
{
    /// <summary>The operation's parameters, without <c>content</c> (unit files are long; <c>contentSha256</c> names them).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    public static OperationRecord Of(ClusterOperation operation, DateTimeOffset started, DateTimeOffset finished, OperationOutcome outcome, string? error)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new(operation.Phase, operation.Kind, [.. operation.Nodes], operation.Description, started, finished, outcome, error)
        {
            Parameters = operation.Parameters
                .Where(p => p.Key != OperationParameters.Content)
                .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
    }
}
