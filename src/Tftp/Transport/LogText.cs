using System.Text;

namespace NekkoMetal.Tftp.Transport;

/// <summary>Client-supplied text made safe for log lines: control characters become '?', length is capped.</summary>
internal static class LogText
{
    private const int MaxLength = 256;

    public static string Safe(string value)
    {
        var needsWork = value.Length > MaxLength;
        foreach (var c in value)
        {
            needsWork |= char.IsControl(c);
        }

        if (!needsWork)
        {
            return value;
        }

        var sb = new StringBuilder(Math.Min(value.Length, MaxLength) + 3);
        foreach (var c in value.Length > MaxLength ? value[..MaxLength] : value)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return value.Length > MaxLength ? sb.Append("...").ToString() : sb.ToString();
    }
}
