namespace NekkoMetal.Cli;

/// <summary>
/// An expected failure of a command, reported on stderr with its exit code by <c>CommandRunner</c>.
/// Anything else thrown is a bug and is left to crash with its stack trace.
/// </summary>
internal abstract class CliException : Exception
{
    protected CliException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public abstract int ExitCode { get; }

    /// <summary>Writes the error for a human; the default is one <c>error: message</c> line.</summary>
    public virtual void WriteTo(TextWriter stderr) => stderr.WriteLine($"error: {Message}");
}

/// <summary>The command line or a local input is wrong; nothing was sent to the server.</summary>
internal sealed class CliUsageException(string message, Exception? innerException = null)
    : CliException(message, innerException)
{
    public override int ExitCode => ExitCodes.Usage;
}
