// A STAND-IN FOR VAULT. No Vault server can be installed on this machine, so the Vault client is tested against
// this in-test HTTP server (Kestrel on loopback). It implements exactly the documented Vault HTTP API endpoints the
// client calls — POST auth/approle/login, POST auth/token/renew-self, GET auth/token/lookup-self,
// POST {mount}/issue/{role}, POST {mount}/sign/{role}, GET {mount}/cert/ca_chain — with request and response bodies
// shaped as Vault's API documentation shows them (auth blocks, data blocks, {"errors":[...]} on failure, 403
// "permission denied" for a bad or expired token, 503 "Vault is sealed", 400 "unknown role", 404 for an unknown
// mount). It is not Vault: policies, leases and roles are reduced to what the tests need. src/Pki/README.md says so too.
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NekkoMetal.Pki.BuiltIn;

namespace NekkoMetal.Pki.Tests;

internal sealed record FakeVaultRole(bool ServerFlag = true, bool ClientFlag = true, string? Organization = null);

internal sealed class FakeVaultMount : IDisposable
{
    public FakeVaultMount(string name)
    {
        Key = CertificateMinter.NewKey();
        Ca = CertificateMinter.CreateRoot(CaKind.BootServerHttps, Key, DateTimeOffset.UtcNow, TimeSpan.FromDays(30), TimeSpan.FromMinutes(1));
        Name = name;
    }

    public string Name { get; }
    public ECDsa Key { get; }
    public X509Certificate2 Ca { get; }
    public ConcurrentDictionary<string, FakeVaultRole> Roles { get; } = new();

    public void Dispose()
    {
        Ca.Dispose();
        Key.Dispose();
    }
}

internal sealed class FakeVault : IAsyncDisposable
{
    private sealed record Token(DateTimeOffset ExpiresAt, bool Renewable, string[] Policies);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Token> _tokens = new();
    private readonly ConcurrentQueue<int> _failures = new();

    public const string RoleId = "db02de05-fa39-4855-059b-67221c5c2f63";
    public const string SecretId = "6a174c20-f6de-a53c-74d2-6018fcceff64";
    public const string RootToken = "hvs.ROOT-static-token-for-tests";

    private FakeVault(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;
    public ConcurrentDictionary<string, FakeVaultMount> Mounts { get; } = new();
    public ConcurrentDictionary<string, int> Requests { get; } = new();
    public ConcurrentQueue<JsonObject> Bodies { get; } = new();
    public bool Sealed { get; set; }
    public int LeaseSeconds { get; set; } = 3600;
    public bool TokensRenewable { get; set; } = true;
    public HashSet<string> DeniedPaths { get; } = [];
    public int Logins;
    public int Renewals;
    public int Lookups;

    public int RequestsTo(string path) => Requests.GetValueOrDefault(path);

    /// <summary>The next <paramref name="count"/> requests fail with <paramref name="status"/> (a 5xx Vault error body).</summary>
    public void FailNext(int count, int status)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue(status);
        }
    }

    /// <summary>Every token issued so far is past its TTL (Vault then answers 403 permission denied).</summary>
    public void ExpireAllTokens()
    {
        foreach (var k in _tokens.Keys)
        {
            _tokens[k] = _tokens[k] with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) };
        }
    }

    /// <summary>A new valid token, as an operator (or Vault Agent) would mint one.</summary>
    public string CreateToken()
    {
        var token = "hvs." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        _tokens[token] = new Token(DateTimeOffset.UtcNow.AddSeconds(LeaseSeconds), TokensRenewable, ["default", "nekko"]);
        return token;
    }

    public FakeVaultMount AddMount(string name, string role = "nekko", FakeVaultRole? spec = null)
    {
        var m = Mounts.GetOrAdd(name, n => new FakeVaultMount(n));
        m.Roles[role] = spec ?? new FakeVaultRole();
        return m;
    }

    public static async Task<FakeVault> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var vault = new FakeVault(app);
        vault._tokens[RootToken] = new Token(DateTimeOffset.MaxValue, false, ["root"]);
        app.Run(vault.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        vault.Address = new Uri(address + "/");
        return vault;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value!;
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            await Error(ctx, 404, "no handler for route");
            return;
        }

        path = path["/v1/".Length..];
        Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        JsonObject body = [];
        if (ctx.Request.ContentLength is > 0 || ctx.Request.Method == "POST")
        {
            try
            {
                body = (await JsonNode.ParseAsync(ctx.Request.Body))?.AsObject() ?? [];
            }
            catch (JsonException)
            {
            }
        }

        Bodies.Enqueue(body);
        if (_failures.TryDequeue(out var failure))
        {
            await Error(ctx, failure, failure == 502 ? "upstream unavailable" : "internal error");
            return;
        }

        if (Sealed)
        {
            await Error(ctx, 503, "Vault is sealed");
            return;
        }

        if (path == "auth/approle/login" && ctx.Request.Method == "POST")
        {
            if (body["role_id"]?.GetValue<string>() != RoleId || body["secret_id"]?.GetValue<string>() != SecretId)
            {
                await Error(ctx, 400, "invalid role or secret ID");
                return;
            }

            Interlocked.Increment(ref Logins);
            var token = "hvs." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            _tokens[token] = new Token(DateTimeOffset.UtcNow.AddSeconds(LeaseSeconds), TokensRenewable, ["default", "nekko"]);
            await Json(ctx, 200, Envelope(auth: Auth(token)));
            return;
        }

        var caller = ctx.Request.Headers["X-Vault-Token"].ToString();
        if (!_tokens.TryGetValue(caller, out var t) || t.ExpiresAt <= DateTimeOffset.UtcNow || DeniedPaths.Contains(path))
        {
            await Error(ctx, 403, "permission denied");
            return;
        }

        if (path == "auth/token/renew-self" && ctx.Request.Method == "POST")
        {
            if (!t.Renewable || !TokensRenewable)
            {
                await Error(ctx, 400, "lease is not renewable");
                return;
            }

            Interlocked.Increment(ref Renewals);
            _tokens[caller] = t with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(LeaseSeconds) };
            await Json(ctx, 200, Envelope(auth: Auth(caller)));
            return;
        }

        if (path == "auth/token/lookup-self" && ctx.Request.Method == "GET")
        {
            Interlocked.Increment(ref Lookups);
            var ttl = t.ExpiresAt == DateTimeOffset.MaxValue ? 0 : (long)(t.ExpiresAt - DateTimeOffset.UtcNow).TotalSeconds;
            await Json(ctx, 200, Envelope(data: new JsonObject
            {
                ["accessor"] = "8609694a-cdbc-db9b-d345-e782dbb562ed",
                ["creation_time"] = 1523979354,
                ["creation_ttl"] = ttl,
                ["display_name"] = "approle",
                ["entity_id"] = "",
                ["expire_time"] = t.ExpiresAt == DateTimeOffset.MaxValue ? null : t.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
                ["explicit_max_ttl"] = 0,
                ["id"] = caller,
                ["issue_time"] = "2018-04-17T11:35:54.466476215-04:00",
                ["meta"] = null,
                ["num_uses"] = 0,
                ["orphan"] = true,
                ["path"] = "auth/token/create",
                ["policies"] = new JsonArray([.. t.Policies.Select(p => JsonValue.Create(p))]),
                ["renewable"] = t.Renewable,
                ["ttl"] = ttl,
                ["type"] = "service",
            }));
            return;
        }

        if (path.EndsWith("/cert/ca_chain", StringComparison.Ordinal) && ctx.Request.Method == "GET")
        {
            if (!Mounts.TryGetValue(path[..^"/cert/ca_chain".Length], out var m))
            {
                await Error(ctx, 404, $"no handler for route \"{path}\". route entry not found.");
                return;
            }

            var pem = m.Ca.ExportCertificatePem();
            await Json(ctx, 200, Envelope(data: new JsonObject
            {
                ["ca_chain"] = new JsonArray(pem),
                ["certificate"] = pem,
                ["revocation_time"] = 0,
            }));
            return;
        }

        var parts = path.Split('/');
        if (parts.Length >= 3 && parts[^2] is "issue" or "sign" && ctx.Request.Method == "POST")
        {
            var mountName = string.Join('/', parts[..^2]);
            var roleName = parts[^1];
            if (!Mounts.TryGetValue(mountName, out var mount))
            {
                await Error(ctx, 404, $"no handler for route \"{path}\". route entry not found.");
                return;
            }

            if (!mount.Roles.TryGetValue(roleName, out var role))
            {
                await Error(ctx, 400, $"unknown role: {roleName}");
                return;
            }

            await IssueOrSign(ctx, mount, role, body, sign: parts[^2] == "sign");
            return;
        }

        await Error(ctx, 404, $"no handler for route \"{path}\". route entry not found.");
    }

    private static async Task IssueOrSign(HttpContext ctx, FakeVaultMount mount, FakeVaultRole role, JsonObject body, bool sign)
    {
        var cn = body["common_name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(cn))
        {
            await Error(ctx, 400, "the common_name field is required, or must be provided in a CSR with \"use_csr_common_name\" set to true");
            return;
        }

        static string[] List(JsonObject b, string name) =>
            b[name]?.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

        var ttl = body["ttl"]?.GetValue<string>() is { } s && s.EndsWith('s') ? TimeSpan.FromSeconds(long.Parse(s[..^1], CultureInfo.InvariantCulture)) : TimeSpan.FromDays(30);
        var profile = new CertificateProfile
        {
            CommonName = cn,
            Organizations = role.Organization is null ? [] : [role.Organization],
            DnsNames = List(body, "alt_names"),
            IpAddresses = [.. List(body, "ip_sans").Select(IPAddress.Parse)],
            Uris = [.. List(body, "uri_sans").Select(u => new Uri(u))],
            Usage = role switch
            {
                { ServerFlag: true, ClientFlag: true } => CertificateUsage.ServerAndClient,
                { ClientFlag: true } => CertificateUsage.Client,
                _ => CertificateUsage.Server,
            },
            Lifetime = ttl,
        };

        PublicKey publicKey;
        ECDsa? generated = null;
        if (sign)
        {
            try
            {
                publicKey = CertificateRequest.LoadSigningRequestPem(body["csr"]?.GetValue<string>() ?? "", HashAlgorithmName.SHA256).PublicKey;
            }
            catch (CryptographicException)
            {
                await Error(ctx, 400, "certificate request could not be parsed");
                return;
            }
        }
        else
        {
            generated = CertificateMinter.NewKey();
            publicKey = new PublicKey(generated);
        }

        using var cert = CertificateMinter.CreateLeaf(mount.Ca, mount.Key, publicKey, profile, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30));
        var issuing = mount.Ca.ExportCertificatePem();
        var data = new JsonObject
        {
            ["certificate"] = cert.ExportCertificatePem(),
            ["issuing_ca"] = issuing,
            ["ca_chain"] = new JsonArray(issuing),
            ["serial_number"] = string.Join(':', Convert.ToHexStringLower(cert.SerialNumberBytes.Span).Chunk(2).Select(c => new string(c))),
            ["expiration"] = new DateTimeOffset(cert.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(),
        };
        if (generated is not null)
        {
            data["private_key"] = generated.ExportPkcs8PrivateKeyPem();
            data["private_key_type"] = "ec";
            generated.Dispose();
        }

        await Json(ctx, 200, Envelope(data: data));
    }

    private JsonObject Auth(string token) => new()
    {
        ["client_token"] = token,
        ["accessor"] = "fd6c9a00-d2dc-3b11-0be5-af7ae0e1d374",
        ["policies"] = new JsonArray("default", "nekko"),
        ["token_policies"] = new JsonArray("default", "nekko"),
        ["metadata"] = new JsonObject { ["role_name"] = "nekko" },
        ["lease_duration"] = LeaseSeconds,
        ["renewable"] = TokensRenewable,
        ["entity_id"] = "",
        ["token_type"] = "service",
        ["orphan"] = true,
    };

    private static JsonObject Envelope(JsonObject? data = null, JsonObject? auth = null) => new()
    {
        ["request_id"] = Guid.NewGuid().ToString(),
        ["lease_id"] = "",
        ["renewable"] = false,
        ["lease_duration"] = 0,
        ["data"] = data,
        ["wrap_info"] = null,
        ["warnings"] = null,
        ["auth"] = auth,
    };

    private static Task Error(HttpContext ctx, int status, string message) =>
        Json(ctx, status, new JsonObject { ["errors"] = new JsonArray(message) });

    private static async Task Json(HttpContext ctx, int status, JsonObject body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var m in Mounts.Values)
        {
            m.Dispose();
        }
    }
}
