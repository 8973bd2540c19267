namespace NekkoMetal.Cli.Api;

/// <summary>No HTTP answer: connection refused, name not resolved, TLS failure, timeout.</summary>
internal sealed class ServerUnreachableException(Uri server, string reason, Exception? innerException = null)
    : CliException($"cannot reach the server at {server}: {reason}", innerException)
{
    public override int ExitCode => ExitCodes.Unreachable;
}
