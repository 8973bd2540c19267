namespace NekkoMetal.Cli;

/// <summary>nekkoctl's exit codes; scripts rely on them, so they never change meaning.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The server answered with an error (problem details printed to stderr).</summary>
    public const int ServerError = 1;

    /// <summary>Bad command line, bad local input (file, label syntax) or missing token: nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached (connection refused, DNS, TLS, timeout).</summary>
    public const int Unreachable = 3;
}
