namespace NekkoMetal.KubeInstaller.Execution;

/// <summary>
/// Base of the executor's exceptions. <see cref="IsTransient"/> tells the controller loop that the same operation
/// may succeed when tried again (a node still booting, a command that timed out, a learner not yet in sync).
/// </summary>
public abstract class KubeExecutionException : Exception
{
    protected KubeExecutionException(string message, Exception? inner = null) : base(message, inner) { }

    public virtual bool IsTransient => false;
}

/// <summary>The node's SSH host key is not the one pinned for its serial: the executor refuses to talk to it.</summary>
public sealed class HostKeyMismatchException(string serial, string address, string pinned, string presented)
    : KubeExecutionException(
        $"host key of {serial} ({address}) does not match the pinned key: pinned SHA256:{pinned}, presented SHA256:{presented}; " +
        "refusing to connect (if the machine was reinstalled, remove the pin kube/hostkeys/" + serial + " deliberately)")
{
    public string Serial { get; } = serial;
    public string Pinned { get; } = pinned;
    public string Presented { get; } = presented;
}

/// <summary>SSH could not connect or authenticate in time.</summary>
public sealed class NodeUnreachableException(string serial, string address, string reason, Exception? inner = null)
    : KubeExecutionException($"{serial} ({address}): SSH failed: {reason}", inner)
{
    public override bool IsTransient => true;
}

/// <summary>A remote command exited non-zero or did not finish within its timeout.</summary>
public sealed class RemoteCommandException(string node, string command, int? exitCode, string output, bool timedOut)
    : KubeExecutionException(timedOut
        ? $"{node}: '{Shorten(command)}' did not finish in time"
        : $"{node}: '{Shorten(command)}' exited with {exitCode}: {Shorten(output.Trim())}")
{
    public int? ExitCode { get; } = exitCode;

    public string Output { get; } = output;

    public bool TimedOut { get; } = timedOut;

    public override bool IsTransient => TimedOut;

    private static string Shorten(string s) => s.Length > 300 ? string.Concat(s.AsSpan(0, 300), "…") : s;
}

/// <summary>An operation could not be carried out (bad parameters, a check that failed, a wait that ran out).</summary>
public sealed class OperationFailedException(string message, bool transient = false, Exception? inner = null)
    : KubeExecutionException(message, inner)
{
    public override bool IsTransient => transient;
}
