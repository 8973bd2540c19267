namespace NekkoMetal.KubeInstaller.Execution.Ssh;

/// <summary>POSIX shell quoting for the commands the executor sends over SSH: every argument is one word, whatever it holds.</summary>
public static class ShellQuoting
{
    /// <summary>Single-quotes <paramref name="value"/>; a single quote inside becomes <c>'\''</c>.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value.All(IsSafe))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>A command line of separately quoted words.</summary>
    public static string Join(params IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    private static bool IsSafe(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.' or '/' or ':' or '=' or ',' or '@' or '+';
}
