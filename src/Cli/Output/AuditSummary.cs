using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>
/// One short line for an audit entry: "healthy → unhealthy" for a state change, "created"/"deleted", or the
/// fields an update changed, read from the entry's before/after snapshots whatever their shape.
/// </summary>
internal static class AuditSummary
{
    private const int MaxChanges = 3;

    // Bookkeeping that changes with every write and says nothing about what the change was.
    private static readonly HashSet<string> Bookkeeping = new(StringComparer.Ordinal)
    {
        "revision", "createdAt", "updatedAt", "stateChangedAt",
    };

    public static string Describe(JsonNode? entry)
    {
        var action = JsonText.String(entry, "action");
        var before = entry?["before"];
        var after = entry?["after"];

        if (action == "machine.state")
        {
            var summary = $"{JsonText.String(before, "state") ?? "?"} → {JsonText.String(after, "state") ?? "?"}";
            return JsonText.String(after, "reason") is { Length: > 0 } reason ? $"{summary} ({reason})" : summary;
        }

        return (before, after) switch
        {
            (null, null) => JsonText.None,
            (null, _) => JsonText.String(after, "role") is { } role ? $"created, role={role}" : "created",
            (_, null) => "deleted",
            _ => DescribeChanges(before, after),
        };
    }

    private static string DescribeChanges(JsonNode before, JsonNode after)
    {
        var old = Snapshot(before);
        var @new = Snapshot(after);
        var oldByKey = old.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        var newKeys = @new.Select(pair => pair.Key).ToHashSet(StringComparer.Ordinal);
        var changes = new List<string>();
        foreach (var (key, value) in @new)
        {
            if (!oldByKey.TryGetValue(key, out var previous))
            {
                changes.Add($"{key}={value}");
            }
            else if (previous != value)
            {
                changes.Add($"{key}: {previous} → {value}");
            }
        }

        changes.AddRange(old.Where(pair => !newKeys.Contains(pair.Key)).Select(pair => $"-{pair.Key}"));

        return changes.Count switch
        {
            0 => "no change",
            <= MaxChanges => string.Join(", ", changes),
            _ => $"{string.Join(", ", changes.Take(MaxChanges))} (+{changes.Count - MaxChanges} more)",
        };
    }

    /// <summary>The flattened snapshot in document order, without bookkeeping members.</summary>
    private static List<KeyValuePair<string, string>> Snapshot(JsonNode node) =>
        [.. JsonFlattener.Flatten(node).Where(pair => !Bookkeeping.Contains(pair.Key.Split('.', '[')[0]))];
}
