namespace NekkoMetal.Cli.Syntax;

/// <summary>A label as given on the command line: <c>KEY=VALUE</c>.</summary>
internal readonly record struct Label(string Key, string Value);

/// <summary>A change given to <c>machines label</c>: <c>KEY=VALUE</c> sets, <c>KEY-</c> removes (<see cref="Value"/> null).</summary>
internal readonly record struct LabelChange(string Key, string? Value);

/// <summary>
/// Command-line label syntax. Only the shape is checked here (a key, then <c>=</c> or a trailing <c>-</c>);
/// which keys and values are allowed is the server's rule, reported as field errors.
/// </summary>
internal static class LabelSyntax
{
    /// <summary>Parses <c>KEY=VALUE</c>; the value may be empty and may contain <c>=</c>.</summary>
    public static bool TryParse(string text, out Label label, out string error)
    {
        label = default;
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            error = $"invalid label \"{text}\": expected KEY=VALUE";
            return false;
        }

        var key = text[..equals];
        if (!IsKey(key, text, out error))
        {
            return false;
        }

        var value = text[(equals + 1)..];
        if (value.Any(char.IsControl))
        {
            error = $"invalid label \"{text}\": the value contains a control character";
            return false;
        }

        label = new Label(key, value);
        return true;
    }

    /// <summary>Parses <c>KEY=VALUE</c> (set) or <c>KEY-</c> (remove), like <c>kubectl label</c>.</summary>
    public static bool TryParseChange(string text, out LabelChange change, out string error)
    {
        change = default;
        if (!text.Contains('=', StringComparison.Ordinal) && text.EndsWith('-'))
        {
            var key = text[..^1];
            if (!IsKey(key, text, out error))
            {
                return false;
            }

            change = new LabelChange(key, null);
            return true;
        }

        if (!text.Contains('=', StringComparison.Ordinal))
        {
            error = $"invalid label \"{text}\": expected KEY=VALUE, or KEY- to remove it";
            return false;
        }

        if (!TryParse(text, out var label, out error))
        {
            return false;
        }

        change = new LabelChange(label.Key, label.Value);
        return true;
    }

    private static bool IsKey(string key, string text, out string error)
    {
        if (key.Length == 0)
        {
            error = $"invalid label \"{text}\": the key is empty";
            return false;
        }

        if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            error = $"invalid label \"{text}\": the key contains white space";
            return false;
        }

        error = "";
        return true;
    }
}
