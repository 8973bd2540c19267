using System.Globalization;
using System.Text;

namespace NekkoMetal.Cli.Output;

/// <summary>
/// Makes server-supplied text safe for a terminal. Hardware facts and labels come from machines and people;
/// an escape sequence or a newline in them must not redraw the screen or forge table rows.
/// </summary>
internal static class TerminalText
{
    public static string Clean(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case var other when NeedsEscape(other):
                    builder.Append("\\u").Append(((int)other).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: builder.Append(c); break;
            }
        }

        return builder.ToString();
    }

    // C0, DEL, C1, line/paragraph separators and the bidirectional overrides and isolates.
    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}
