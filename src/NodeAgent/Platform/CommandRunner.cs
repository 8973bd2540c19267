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

internal sealed class CommandRunner(TimeProvider time) : ICommandRunner
{
    /// <summary>Output beyond this is dropped: a check's message is a line, not a log.</summary>
    private const int MaxOutputChars = 1024 * 1024;

    /// <summary>How long to wait for the output pipes to close after the process ended: a child it left in the background may hold them open.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    public CommandRunner()
        : this(TimeProvider.System)
    {
    }

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
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput, stdout), PumpAsync(process.StandardError, stderr));
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            timedOut = e is TimeoutException;
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

        try
        {
            await pumps.WaitAsync(OutputGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // a detached child still holds a pipe: keep what was read
        }

        return new CommandResult(timedOut ? null : process.ExitCode, Snapshot(stdout), Snapshot(stderr), timedOut, null);
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

    private static async Task PumpAsync(StreamReader reader, StringBuilder text)
    {
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (text)
            {
                if (text.Length < MaxOutputChars)
                {
                    text.Append(buffer, 0, Math.Min(read, MaxOutputChars - text.Length));
                }
            }
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
