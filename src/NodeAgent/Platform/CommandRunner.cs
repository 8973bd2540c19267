using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace NekkoMetal.NodeAgent.Platform;

/// <summary>What a command did: its exit code and output, or why it has none.</summary>
/// <remarks>
/// <para><c>ExitCode</c>: Null when it did not start or was killed on timeout.</para>
/// <para><c>StartError</c>: Why it could not be started (not found, not executable), or null.</para>
/// </remarks>
internal sealed record CommandResult(int? ExitCode, string StandardOutput, string StandardError, bool TimedOut, string? StartError)
{
    public bool Started => StartError is null;
}

/// <summary>Runs external programs (systemctl, smartctl, dmesg, user check scripts) with a timeout; never throws for a program's failure.</summary>
internal interface ICommandRunner
{
    Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The full path of a program found on PATH (or the path itself when it is one and exists), else null.</summary>
    string? Find(string program);
}

internal sealed class CommandRunner : ICommandRunner
{
    /// <summary>Output beyond this is dropped: a check's message is a line, not a log.</summary>
    private const int MaxOutputChars = 1024 * 1024;

    public async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        // Stable, parseable output from systemctl and friends.
        start.Environment["LC_ALL"] = "C";
        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_PAGER"] = "";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new CommandResult(null, "", "", false, e.Message);
        }

        process.StandardInput.Close();
        var stdout = ReadCappedAsync(process.StandardOutput);
        var stderr = ReadCappedAsync(process.StandardError);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // exited in between
            }

            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var output = await stdout;
        var error = await stderr;
        return new CommandResult(timedOut ? null : process.ExitCode, output, error, timedOut, null);
    }

    public string? Find(string program)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Join(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<string> ReadCappedAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            if (text.Length < MaxOutputChars)
            {
                text.Append(buffer, 0, Math.Min(read, MaxOutputChars - text.Length));
            }
        }

        return text.ToString();
    }
}
