using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.BootServer.Tls;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki;

namespace NekkoMetal.BootServer.Agents;

/// <summary>What an agent sends to enrol or renew: a PKCS#10 request (PEM) for the key it generated and keeps.</summary>
public sealed record AgentCertificateRequest
{
    /// <summary>The machine the agent runs on; optional on enrolment (the token names it), must agree when given.</summary>
    public string? Serial { get; init; }

    /// <summary>PEM PKCS#10 request, ECDSA P-256 (or P-384); only its public key is used.</summary>
    public string? Csr { get; init; }
}

/// <summary>An agent client certificate: bound to <paramref name="Serial"/> whatever the CSR asked for.</summary>
/// <param name="Serial">The machine serial in the certificate (CN and <c>urn:nekkometal:machine:{serial}</c>).</param>
/// <param name="CertificatePem">The certificate, followed by any intermediate CA.</param>
/// <param name="CaChainPem">The agent-client CA chain, issuing CA first, root last.</param>
/// <param name="NotBefore">Start of validity.</param>
/// <param name="NotAfter">End of validity.</param>
/// <param name="RenewAfter">Two thirds into the validity: when the agent should renew.</param>
public sealed record AgentCertificateResponse(
    string Serial, string CertificatePem, string CaChainPem, DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset RenewAfter);

public static partial class AgentApi
{
    /// <remarks>
    /// Order matters: a bad body or CSR is a 400 before the token is looked at, so nothing is used up; the token is
    /// checked (purpose, expiry, machine), the CSR signed, and only then the token consumed in one etcd
    /// compare-and-swap — of two enrolments with one token exactly one gets the certificate (the loser's is never
    /// sent). A token issued for another machine than the body names: 403, not consumed.
    /// </remarks>
    private static async Task<Results<Ok<AgentCertificateResponse>, ProblemHttpResult>> Enrol(
        HttpContext context, BootstrapTokenRepository bootstrap, ICertificateIssuer issuer, InventoryCache cache,
        IOptions<AgentEnrolmentOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var request = await JsonBody.ReadAsync<AgentCertificateRequest>(context.Request, ct);
        EnsureCsr(request);
        var secret = BearerTokenHandler.SecretOf(context.Request);
        var token = await bootstrap.FindAsync(secret, ConfigEndpoints.AgentBootstrapPurpose, ct);
        if (token?.Serial is not { } serial)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: "a valid, unused agent bootstrap token is required as Bearer (the machine's rendered configuration has it as bootstrap_token; it is single-use and expires)");
        }

        if (request.Serial is { } claimed && !string.Equals(claimed, serial, StringComparison.Ordinal))
        {
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "the bootstrap token was not issued to this machine");
        }

        var refused = await RefuseUnknownOrRetiredAsync(cache, serial, ct);
        if (refused is not null)
        {
            return refused;
        }

        using var issued = await issuer.SignAsync(CaKind.AgentClient, request.Csr!, CertificateProfiles.AgentClient(serial, options.Value.AgentCertificateLifetime), ct);
        if (await bootstrap.ConsumeAsync(secret, ConfigEndpoints.AgentBootstrapPurpose, ct) is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "the bootstrap token has just been used (or has expired): it is single-use");
        }

        LogEnrolled(loggers.CreateLogger(typeof(AgentApi).FullName!), serial, issued.Certificate.SerialNumber, issued.Certificate.NotAfter.ToUniversalTime());
        return Answer(context, serial, issued);
    }

    /// <remarks>Authenticated by the current client certificate, which must still be valid: an expired one needs a new bootstrap token.</remarks>
    private static async Task<Results<Ok<AgentCertificateResponse>, ProblemHttpResult>> Renew(
        HttpContext context, AgentCertificateAuthenticator agents, ICertificateIssuer issuer, IOptions<AgentEnrolmentOptions> options,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var identity = await agents.AuthenticateAsync(context, ct);
        if (!identity.Accepted)
        {
            return Refusal(identity);
        }

        var request = await JsonBody.ReadAsync<AgentCertificateRequest>(context.Request, ct);
        EnsureCsr(request);
        if (request.Serial is { } claimed && !string.Equals(claimed, identity.Serial, StringComparison.Ordinal))
        {
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"the client certificate speaks for machine '{identity.Serial}', not for the body's serial");
        }

        using var issued = await issuer.SignAsync(CaKind.AgentClient, request.Csr!, CertificateProfiles.AgentClient(identity.Serial!, options.Value.AgentCertificateLifetime), ct);
        LogRenewed(loggers.CreateLogger(typeof(AgentApi).FullName!), identity.Serial!, issued.Certificate.SerialNumber, issued.Certificate.NotAfter.ToUniversalTime());
        return Answer(context, identity.Serial!, issued);
    }

    private static void EnsureCsr(AgentCertificateRequest request)
    {
        try
        {
            CsrChecks.EnsureAllowedEcdsaRequest(request.Csr);
        }
        catch (CertificateRequestException e)
        {
            throw new ValidationException("csr", e.Message);
        }
    }

    private static async Task<ProblemHttpResult?> RefuseUnknownOrRetiredAsync(InventoryCache cache, string serial, CancellationToken ct)
    {
        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        return cache.GetMachine(serial) switch
        {
            null => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"machine '{serial}' is not in the inventory"),
            { State: MachineState.Retired } => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"machine '{serial}' is retired"),
            _ => null,
        };
    }

    private static Ok<AgentCertificateResponse> Answer(HttpContext context, string serial, IssuedCertificate issued)
    {
        var cert = issued.Certificate;
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new AgentCertificateResponse(
            serial,
            issued.CertificatePem(),
            CaBundle.ToPem(issued.Chain),
            new DateTimeOffset(cert.NotBefore.ToUniversalTime()),
            new DateTimeOffset(cert.NotAfter.ToUniversalTime()),
            issued.RenewalDue));
    }

    [LoggerMessage(EventIds.AgentEnrolled, LogLevel.Information, "Machine {Serial} enrolled its agent: client certificate {CertificateSerial} valid until {NotAfter:O}")]
    private static partial void LogEnrolled(ILogger logger, string serial, string certificateSerial, DateTime notAfter);

    [LoggerMessage(EventIds.AgentRenewed, LogLevel.Information, "Machine {Serial} renewed its agent certificate: {CertificateSerial} valid until {NotAfter:O}")]
    private static partial void LogRenewed(ILogger logger, string serial, string certificateSerial, DateTime notAfter);
}
