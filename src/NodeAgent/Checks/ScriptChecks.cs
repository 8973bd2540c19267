using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>
/// User check scripts: every executable file in the checks directory (names as run-parts(8) accepts them; hidden
/// files, backups and package-manager leftovers are skipped), run with a timeout, judged like Nagios plugins: exit 0/1/2
/// → ok/warning/critical, 3 or anything else → unknown; the first line of output (before a "|" of performance data)
/// is the message. A script that times out is killed and reported unknown — a hung script says nothing about the
/// node, and unknown never makes a node unhealthy by itself.
/// </summary>
internal sealed class ScriptChecks(string directory, TimeSpan timeout, ICommandRunner commands) : IHealthCheck
{
    public const string NamePrefix = "script:";

    public async Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var results = new List<CheckResult>();
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!IsCheckName(name) || !IsExecutable(path))
            {
                continue;
            }

            var result = await commands.RunAsync(path, [], timeout, cancellationToken);
            results.Add(Evaluate(name, result, timeout));
        }

        return results;
    }

    /// <summary>Pure: how the script ended → the verdict.</summary>
    public static CheckResult Evaluate(string scriptName, CommandResult result, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(result);
        var name = NamePrefix + scriptName;
        if (!result.Started)
        {
            return CheckResult.Unknown(name, $"could not run: {result.StartError}");
        }

        if (result.TimedOut || result.ExitCode is null)
        {
            return CheckResult.Unknown(name, $"timed out after {timeout.TotalSeconds:0.#} s and was killed");
        }

        var message = FirstLine(result.StandardOutput) ?? FirstLine(result.StandardError) ?? $"exit code {result.ExitCode}";
        return result.ExitCode switch
        {
            0 => CheckResult.Ok(name, message),
            1 => CheckResult.Warning(name, message),
            2 => CheckResult.Critical(name, message),
            3 => CheckResult.Unknown(name, message),
            _ => CheckResult.Unknown(name, $"exit code {result.ExitCode} (expected 0–3): {message}"),
        };
    }

    /// <summary>run-parts' rule: letters, digits, underscores and hyphens only (so no "x.dpkg-old", "x~", ".hidden").</summary>
    internal static bool IsCheckName(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static bool IsExecutable(string path)
    {
        try
        {
            return !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0];
        var pipe = line.IndexOf('|', StringComparison.Ordinal);
        line = (pipe >= 0 ? line[..pipe] : line).Trim();
        return line.Length == 0 ? null : line.Length > 300 ? line[..300] + "…" : line;
    }
}
