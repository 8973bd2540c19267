using System.Net;

namespace NekkoMetal.Pki.Vault;

/// <summary>
/// An error answer from Vault (or no answer). <see cref="Errors"/> are the messages of Vault's
/// <c>{"errors":[...]}</c> body, cut to a sane length; a token or secret id never appears in a message.
/// </summary>
public abstract class VaultException : PkiException
{
    protected VaultException(string operation, HttpStatusCode? status, IReadOnlyList<string> errors, string? hint, Exception? inner = null)
        : base(Describe(operation, status, errors, hint), inner)
    {
        Operation = operation;
        StatusCode = status;
        Errors = errors;
    }

    /// <summary>What was asked, e.g. <c>POST nekko-https/issue/nekko</c>.</summary>
    public string Operation { get; }

    /// <summary>Vault's HTTP status; null when no answer came.</summary>
    public HttpStatusCode? StatusCode { get; }

    public IReadOnlyList<string> Errors { get; }

    private static string Describe(string operation, HttpStatusCode? status, IReadOnlyList<string> errors, string? hint)
    {
        var s = $"vault: {operation} → " + (status is { } code ? $"{(int)code} {code}" : "no answer");
        if (errors.Count > 0)
        {
            s += ": " + string.Join("; ", errors);
        }

        return hint is null ? s : s + " (" + hint + ")";
    }
}

/// <summary>403: the token lacks a policy for the path, or it expired and logging in again did not help.</summary>
public sealed class VaultPermissionDeniedException(string operation, IReadOnlyList<string> errors, string? hint = null)
    : VaultException(operation, HttpStatusCode.Forbidden, errors, hint);

/// <summary>
/// 503 with "Vault is sealed": an operator has to unseal it. Not transient — retrying within seconds does not
/// help; the renewal job tries again on its next run.
/// </summary>
public sealed class VaultSealedException(string operation, IReadOnlyList<string> errors)
    : VaultException(operation, HttpStatusCode.ServiceUnavailable, errors, "an operator must unseal Vault");

/// <summary>400 (and other 4xx): the request was refused, e.g. a name the role does not allow, or "unknown role".</summary>
public sealed class VaultBadRequestException(string operation, HttpStatusCode status, IReadOnlyList<string> errors, string? hint = null)
    : VaultException(operation, status, errors, hint);

/// <summary>404: no such mount or path (a PKI mount name that does not exist, an auth method not enabled).</summary>
public sealed class VaultNotFoundException(string operation, IReadOnlyList<string> errors)
    : VaultException(operation, HttpStatusCode.NotFound, errors, "check the mount path in the Vault options");

/// <summary>No answer, 429, or a 5xx other than sealed: may pass; retried with backoff.</summary>
public sealed class VaultUnavailableException(string operation, HttpStatusCode? status, IReadOnlyList<string> errors, Exception? inner = null)
    : VaultException(operation, status, errors, null, inner)
{
    public override bool IsTransient => true;
}

/// <summary>Vault answered 2xx with a body that is not what its API documents.</summary>
public sealed class VaultProtocolException(string operation, string problem)
    : VaultException(operation, HttpStatusCode.OK, [problem], "the answer is not shaped as Vault documents it");
