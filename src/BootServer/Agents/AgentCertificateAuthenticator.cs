using System.Security.Cryptography.X509Certificates;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki;

namespace NekkoMetal.BootServer.Agents;

/// <summary>The outcome of checking an agent's client certificate: the machine it speaks for, or why not.</summary>
/// <param name="Serial">The machine serial bound in the certificate; null when refused.</param>
/// <param name="Status">200 when accepted, else 401 (no or untrusted certificate) or 403 (machine unknown or retired).</param>
/// <param name="Reason">Why it was refused (for the problem's detail and the log; never certificate bytes).</param>
public sealed record AgentIdentity(string? Serial, int Status, string Reason)
{
    public bool Accepted => Status == StatusCodes.Status200OK;
}

/// <summary>
/// Authenticates node agents by their TLS client certificate (mTLS on the HTTPS endpoint, which asks for but does not
/// require a certificate, since admins use bearer tokens on the same port). A certificate is accepted when it chains
/// to the agent-client CA only (custom root trust: not the system store, not another NekkoMetal CA), is within its
/// validity now (<see cref="TimeProvider"/>), carries the client-auth usage, and binds exactly one machine serial
/// (CN and <c>urn:nekkometal:machine:{serial}</c> agree). Revocation is by inventory, on every request: a serial the
/// inventory cache does not know (deleted) or a retired machine is refused with 403 however valid its certificate.
/// </summary>
public sealed partial class AgentCertificateAuthenticator(
    ICertificateIssuer issuer, InventoryCache cache, TimeProvider time, ILogger<AgentCertificateAuthenticator> logger) : IDisposable
{
    /// <summary>How long the agent CA chain is kept before it is read again (a Vault CA may be rotated).</summary>
    public static readonly TimeSpan ChainRefresh = TimeSpan.FromMinutes(10);

    /// <summary>How long a certificate's chain check is reused for later requests on any connection.</summary>
    public static readonly TimeSpan VerdictLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Certificates whose chain was checked, at most this many remembered (then forgotten all at once).</summary>
    private const int MaxVerdicts = 16384;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (X509Certificate2[] Roots, X509Certificate2[] Intermediates, DateTimeOffset ReadAt)? _chain;

    /// <summary>
    /// Certificates already found to chain to the agent CA with client-auth and a serial, by SHA-256 of their DER:
    /// building the chain is most of the cost of a heartbeat's authentication, and an agent presents the same
    /// certificate every time. Validity in time and the inventory (retired, deleted) are still checked per request;
    /// a new CA chain (Vault rotation, <see cref="ChainRefresh"/>) forgets every verdict.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Verdict> _verdicts = new(StringComparer.Ordinal);

    private sealed record Verdict(string Serial, DateTime NotBefore, DateTime NotAfter, DateTimeOffset CheckedAt, X509Certificate2[] Roots);

    /// <summary>Checks the connection's client certificate; the caller answers with the status when not accepted.</summary>
    public async Task<AgentIdentity> AuthenticateAsync(HttpContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var certificate = context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync(ct);
        var identity = await CheckAsync(certificate, ct);
        if (!identity.Accepted)
        {
            LogRefused(logger, identity.Status, identity.Serial ?? "(none)", identity.Reason, context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)");
        }

        return identity;
    }

    /// <summary>The checks of <see cref="AuthenticateAsync"/> on a certificate (null: none was presented).</summary>
    public async Task<AgentIdentity> CheckAsync(X509Certificate2? certificate, CancellationToken ct)
    {
        if (certificate is null)
        {
            return new AgentIdentity(null, StatusCodes.Status401Unauthorized,
                "a client certificate from the agent CA is required (an agent gets one with POST /api/v1/agent/enrol and its bootstrap token)");
        }

        var (roots, intermediates) = await ChainAsync(ct);
        var now = time.GetUtcNow();
        var fingerprint = Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256));
        if (_verdicts.TryGetValue(fingerprint, out var known) && ReferenceEquals(known.Roots, roots) && now - known.CheckedAt < VerdictLifetime)
        {
            if (known.NotAfter <= now.UtcDateTime || known.NotBefore > now.UtcDateTime)
            {
                _verdicts.TryRemove(fingerprint, out _);
                return new AgentIdentity(null, StatusCodes.Status401Unauthorized, "the client certificate is expired or not yet valid: enrol again");
            }

            return await InventoryCheckAsync(known.Serial, ct);
        }

        var problems = CertificateChecks.ValidateChain(certificate, roots, intermediates, now);
        if (problems.Count > 0)
        {
            var expired = problems.Any(p => p.Status.HasFlag(X509ChainStatusFlags.NotTimeValid))
                || certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime || certificate.NotBefore.ToUniversalTime() > now.UtcDateTime;
            return new AgentIdentity(null, StatusCodes.Status401Unauthorized, expired
                ? "the client certificate is expired or not yet valid: enrol again"
                : "the client certificate was not issued by the agent CA");
        }

        if (!CertificateChecks.ExtendedKeyUsages(certificate).Contains(CertificateChecks.ClientAuthOid))
        {
            return new AgentIdentity(null, StatusCodes.Status401Unauthorized, "the client certificate has no client-auth usage");
        }

        if (!CertificateProfiles.TryGetMachineSerial(certificate, out var serial))
        {
            return new AgentIdentity(null, StatusCodes.Status401Unauthorized, "the client certificate is not bound to a machine serial");
        }

        if (_verdicts.Count >= MaxVerdicts)
        {
            _verdicts.Clear();
        }

        _verdicts[fingerprint] = new Verdict(serial, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), now, roots);
        return await InventoryCheckAsync(serial, ct);
    }

    /// <summary>Revocation by inventory, on every request: a deleted or retired machine's certificate is refused.</summary>
    private async Task<AgentIdentity> InventoryCheckAsync(string serial, CancellationToken ct)
    {
        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var machine = cache.GetMachine(serial);
        if (machine is null)
        {
            return new AgentIdentity(serial, StatusCodes.Status403Forbidden, $"machine '{serial}' is not in the inventory: its certificate is no longer honoured");
        }

        if (machine.State == MachineState.Retired)
        {
            return new AgentIdentity(serial, StatusCodes.Status403Forbidden, $"machine '{serial}' is retired: its certificate is no longer honoured");
        }

        return new AgentIdentity(serial, StatusCodes.Status200OK, "accepted");
    }

    private async Task<(X509Certificate2[] Roots, X509Certificate2[] Intermediates)> ChainAsync(CancellationToken ct)
    {
        if (_chain is { } c && time.GetUtcNow() - c.ReadAt < ChainRefresh)
        {
            return (c.Roots, c.Intermediates);
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (_chain is { } again && time.GetUtcNow() - again.ReadAt < ChainRefresh)
            {
                return (again.Roots, again.Intermediates);
            }

            // Issuing CA first, root last: trust the root, let the others help build the chain. The previous arrays
            // are left to the GC: a request may still be validating against them.
            var chain = await issuer.GetCaChainAsync(CaKind.AgentClient, ct);
            var roots = new[] { chain[^1] };
            var intermediates = chain.Take(chain.Count - 1).ToArray();
            _chain = (roots, intermediates, time.GetUtcNow());
            return (roots, intermediates);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(EventIds.AgentCertificateRefused, LogLevel.Warning, "Agent call refused with {Status} for machine {Serial}: {Reason} (from {RemoteAddress})")]
    private static partial void LogRefused(ILogger logger, int status, string serial, string reason, string remoteAddress);
}
