using System.Security.Authentication;

namespace NekkoMetal.Cli.Api;

/// <summary>No HTTP answer: connection refused, name not resolved, TLS failure, timeout.</summary>
internal sealed class ServerUnreachableException(Uri server, string reason, Exception? innerException = null)
    : CliException($"cannot reach the server at {server}: {reason}", innerException)
{
    public override int ExitCode => ExitCodes.Unreachable;

    /// <summary>
    /// From a failed request: a refused server certificate says why (<see cref="ServerTrust.LastRejection"/>) rather
    /// than .NET's "The remote certificate was rejected by the provided RemoteCertificateValidationCallback".
    /// </summary>
    public static ServerUnreachableException From(Uri server, HttpRequestException ex, ServerTrust? trust, string reason)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var tls = ex.HttpRequestError == HttpRequestError.SecureConnectionError || ex.InnerException is AuthenticationException;
        if (tls && trust?.LastRejection is { } why)
        {
            return new ServerUnreachableException(server, "TLS: the server's certificate is not trusted: " + why, ex);
        }

        if (tls && server.Scheme == Uri.UriSchemeHttps)
        {
            return new ServerUnreachableException(server, $"TLS handshake failed ({reason}); is this the boot server's HTTPS port (--https-url, default 8443)?", ex);
        }

        return new ServerUnreachableException(server, reason, ex);
    }
}
