using System.Text;

namespace NekkoMetal.NodeAgent.Facts;

/// <summary>/etc/os-release (os-release(5)): newline-separated KEY=value, values optionally quoted in shell style. Pure.</summary>
internal static class OsReleaseParser
{
    public static OsFacts? Parse(string? osRelease)
    {
        var values = ParseAssignments(osRelease);
        return values.Count == 0
            ? null
            : new OsFacts(values.GetValueOrDefault("ID"), values.GetValueOrDefault("NAME"), values.GetValueOrDefault("VERSION_ID"), values.GetValueOrDefault("PRETTY_NAME"));
    }

    internal static Dictionary<string, string> ParseAssignments(string? text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text is null)
        {
            return values;
        }

        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || equals <= 0)
            {
                continue;
            }

            values[line[..equals]] = Unquote(line[(equals + 1)..]);
        }

        return values;
    }

    /// <summary>Removes one level of "…" or '…' quoting; inside double quotes a backslash escapes $ " \ and `.</summary>
    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            return value[1..^1];
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            var inner = value[1..^1];
            var result = new StringBuilder(inner.Length);
            for (var i = 0; i < inner.Length; i++)
            {
                if (inner[i] == '\\' && i + 1 < inner.Length && inner[i + 1] is '$' or '"' or '\\' or '`')
                {
                    i++;
                }

                result.Append(inner[i]);
            }

            return result.ToString();
        }

        return value;
    }
}
