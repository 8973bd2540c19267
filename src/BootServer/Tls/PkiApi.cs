using System.Net;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki;

namespace NekkoMetal.BootServer.Tls;

/// <summary>Asks for a certificate from one of NekkoMetal's CAs (<c>POST /api/v1/pki/issue</c>).</summary>
public sealed record IssueCertificateRequest
{
    /// <summary>Subject common name.</summary>
    public string? CommonName { get; init; }

    public IReadOnlyList<string>? DnsNames { get; init; }

    public IReadOnlyList<string>? IpAddresses { get; init; }

    /// <summary><c>server</c> (default), <c>client</c> or <c>server-and-client</c>.</summary>
    public string? Usage { get; init; }

    /// <summary><c>boot-server-https</c> (default; alias <c>https</c>), <c>agent-client</c> (<c>agent</c>), <c>kubernetes</c>, <c>kubernetes-etcd</c> (<c>etcd</c>).</summary>
    public string? Ca { get; init; }

    /// <summary>Lifetime in days (default 30, at most 825); the CA clamps it to its own.</summary>
    public double? LifetimeDays { get; init; }
}

/// <summary>An issued certificate with its private key (shown once: the server keeps no copy) and the CA chain.</summary>
public sealed record IssuedCertificateResponse(
    string Ca, string Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string CertificatePem, string PrivateKeyPem, string CaChainPem);

/// <summary>A CA's chain in PEM, issuing CA first, root last.</summary>
public sealed record CaChainResponse(string Ca, string Pem);

/// <summary><c>/api/v1/pki</c>: CA chains (viewer) and certificates for admins (admin).</summary>
public static partial class PkiApi
{
    public const string AuditIssue = "pki.issue";

    public static IEndpointRouteBuilder MapPkiApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/pki").WithTags("PKI").RequireAuthorization(Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);
        g.MapGet("/ca/{ca}", GetCa).WithName("GetCaChain")
            .WithSummary("A CA's chain in PEM (boot-server-https, agent-client, kubernetes, kubernetes-etcd; trust the last certificate)")
            .ProducesProblem(400);
        g.MapPost("/issue", Issue).WithName("IssueCertificate").RequireAuthorization(Policies.Write)
            .WithSummary("Issues a certificate and key from a NekkoMetal CA (the key is in this answer only; it is not kept)")
            .ProducesProblem(400);
        return app;
    }

    public static bool TryParseCa(string? text, out CaKind ca)
    {
        switch (text?.ToLowerInvariant())
        {
            case null or "" or "https":
                ca = CaKind.BootServerHttps;
                return true;
            case "agent":
                ca = CaKind.AgentClient;
                return true;
            case "etcd":
                ca = CaKind.KubernetesEtcd;
                return true;
            default:
                return CaKinds.TryParse(text, out ca);
        }
    }

    private static async Task<Ok<CaChainResponse>> GetCa(string ca, ICertificateIssuer issuer, CancellationToken ct)
    {
        if (!TryParseCa(ca, out var kind))
        {
            throw new ValidationException("ca", $"unknown CA; one of {string.Join(", ", CaKinds.All.Select(k => k.ToWire()))}");
        }

        var chain = await issuer.GetCaChainAsync(kind, ct);
        try
        {
            return TypedResults.Ok(new CaChainResponse(kind.ToWire(), CaBundle.ToPem(chain)));
        }
        finally
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }
        }
    }

    private static async Task<Ok<IssuedCertificateResponse>> Issue(
        IssueCertificateRequest request, HttpContext context, ICertificateIssuer issuer, AuditLog audit, EtcdStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        var (ca, profile) = ToProfile(request);
        using var issued = await issuer.IssueAsync(ca, profile, ct);
        var cert = issued.Certificate;
        var response = new IssuedCertificateResponse(
            ca.ToWire(),
            cert.SerialNumber,
            new DateTimeOffset(cert.NotBefore.ToUniversalTime()),
            new DateTimeOffset(cert.NotAfter.ToUniversalTime()),
            issued.CertificatePem(),
            PrivateKeyPem(cert),
            CaBundle.ToPem(issued.Chain));

        var actor = MachinesApi.Actor(context);
        var entry = audit.Create(actor, AuditIssue, null, null, new
        {
            response.Ca,
            response.Serial,
            profile.CommonName,
            profile.DnsNames,
            IpAddresses = profile.IpAddresses.Select(a => a.ToString()),
            Usage = Usage(profile.Usage),
            response.NotAfter,
        });
        var txn = new TxnRequest();
        txn.Success.AddRange(audit.Ops(entry));
        await store.TxnAsync(txn, ct);

        LogIssued(loggers.CreateLogger(typeof(PkiApi).FullName!), actor, response.Ca, profile.CommonName, response.Serial, response.NotAfter);
        context.Response.Headers.CacheControl = "no-store"; // carries a private key
        return TypedResults.Ok(response);
    }

    internal static (CaKind Ca, CertificateProfile Profile) ToProfile(IssueCertificateRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (!TryParseCa(request.Ca, out var ca))
        {
            errors["ca"] = [$"unknown CA; one of https, agent, kubernetes, etcd ({string.Join(", ", CaKinds.All.Select(k => k.ToWire()))})"];
        }

        CertificateUsage usage = CertificateUsage.Server;
        switch (request.Usage?.ToLowerInvariant())
        {
            case null or "" or "server":
                break;
            case "client":
                usage = CertificateUsage.Client;
                break;
            case "server-and-client" or "serverandclient" or "both":
                usage = CertificateUsage.ServerAndClient;
                break;
            default:
                errors["usage"] = ["one of server, client, server-and-client"];
                break;
        }

        var ips = new List<IPAddress>();
        foreach (var ip in request.IpAddresses ?? [])
        {
            if (IPAddress.TryParse(ip, out var a))
            {
                ips.Add(a);
            }
            else
            {
                errors["ipAddresses"] = ["each must be an IPv4 or IPv6 address"];
            }
        }

        var days = request.LifetimeDays ?? 30;
        if (days is <= 0 or > 825 || double.IsNaN(days))
        {
            errors["lifetimeDays"] = ["between 0 and 825 days"];
        }

        var profile = new CertificateProfile
        {
            CommonName = request.CommonName ?? "",
            DnsNames = [.. request.DnsNames ?? []],
            IpAddresses = ips,
            Usage = usage,
            Lifetime = errors.ContainsKey("lifetimeDays") ? TimeSpan.FromDays(1) : TimeSpan.FromDays(days),
        };
        try
        {
            profile.Validate();
        }
        catch (CertificateRequestException e)
        {
            errors["profile"] = [e.Message];
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : (ca, profile);
    }

    private static string Usage(CertificateUsage usage) => usage switch
    {
        CertificateUsage.Client => "client",
        CertificateUsage.ServerAndClient => "server-and-client",
        _ => "server",
    };

    private static string PrivateKeyPem(X509Certificate2 certificate)
    {
        using var ec = certificate.GetECDsaPrivateKey();
        if (ec is not null)
        {
            return ec.ExportPkcs8PrivateKeyPem() + "\n";
        }

        using var rsa = certificate.GetRSAPrivateKey();
        return rsa is not null
            ? rsa.ExportPkcs8PrivateKeyPem() + "\n"
            : throw new InvalidOperationException("the issuer returned a certificate without its private key");
    }

    [LoggerMessage(EventIds.PkiCertificateIssued, LogLevel.Information, "{Actor} was issued a certificate from the {Ca} CA for {CommonName}, serial {Serial}, valid until {NotAfter:O}")]
    private static partial void LogIssued(ILogger logger, string actor, string ca, string commonName, string serial, DateTimeOffset notAfter);
}
