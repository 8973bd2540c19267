// The Vault issuer and client are tested against FakeVault, an in-test HTTP server that implements the documented
// Vault HTTP API for exactly the endpoints we call (AppRole login, token renew-self and lookup-self, PKI issue, sign
// and cert/ca_chain), with bodies shaped as Vault's documentation shows. No Vault server can be installed on this
// machine; see FakeVault.cs and src/Pki/README.md.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Pki.Vault;

namespace NekkoMetal.Pki.Tests;

public sealed class VaultCertificateIssuerTests : IAsyncLifetime
{
    private FakeVault _vault = null!;
    private readonly List<IDisposable> _owned = [];
    private readonly FakeLogCollector _logs = new();

    public async Task InitializeAsync()
    {
        _vault = await FakeVault.StartAsync();
        _vault.AddMount("nekko-https", "nekko", new FakeVaultRole(ServerFlag: true, ClientFlag: false));
        _vault.AddMount("nekko-agents", "nekko", new FakeVaultRole(ServerFlag: false, ClientFlag: true, Organization: CertificateProfiles.AgentOrganization));
    }

    public async Task DisposeAsync()
    {
        foreach (var d in _owned)
        {
            d.Dispose();
        }

        await _vault.DisposeAsync();
    }

    private VaultOptions AppRole => new()
    {
        Address = _vault.Address,
        Auth = VaultAuthMethod.AppRole,
        RoleId = FakeVault.RoleId,
        SecretId = FakeVault.SecretId,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
    };

    private VaultOptions StaticToken => new()
    {
        Address = _vault.Address,
        Auth = VaultAuthMethod.Token,
        Token = FakeVault.RootToken,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
    };

    private (VaultClient Client, VaultCertificateIssuer Issuer) New(VaultOptions options, TimeProvider? time = null)
    {
        var http = new HttpClient();
        var client = new VaultClient(http, options, time ?? TimeProvider.System, new FakeLogger<VaultClient>(_logs));
        _owned.Add(http);
        _owned.Add(client);
        return (client, new VaultCertificateIssuer(client, options));
    }

    private static CertificateProfile Https => new()
    {
        CommonName = "boot-1.lab",
        DnsNames = ["boot-1.lab"],
        IpAddresses = [IPAddress.Parse("192.0.2.10")],
        Usage = CertificateUsage.Server,
        Lifetime = TimeSpan.FromHours(12),
    };

    [Fact]
    public async Task AppRole_Issue_GivesKeyCertificateAndAChainThatValidates()
    {
        var (_, issuer) = New(AppRole);
        using var issued = await issuer.IssueAsync(CaKind.BootServerHttps, Https, default);
        var chain = await issuer.GetCaChainAsync(CaKind.BootServerHttps, default);

        Assert.True(issued.Certificate.HasPrivateKey);
        Assert.Empty(CertificateChecks.ValidateChain(issued.Certificate, [chain[^1]]));
        Assert.Equal(chain[^1].Thumbprint, issued.Chain[^1].Thumbprint);
        Assert.Equal(1, _vault.Logins);
        Assert.Equal(1, _vault.RequestsTo("nekko-https/issue/nekko"));

        // the request as Vault documents it: common_name, alt_names, ip_sans, ttl in seconds
        var body = _vault.Bodies.Single(b => b.ContainsKey("common_name"));
        Assert.Equal("boot-1.lab", (string?)body["common_name"]);
        Assert.Equal("boot-1.lab", (string?)body["alt_names"]);
        Assert.Equal("192.0.2.10", (string?)body["ip_sans"]);
        Assert.Equal("43200s", (string?)body["ttl"]);
        Assert.Equal(TimeSpan.FromHours(12), issued.Certificate.NotAfter - issued.Certificate.NotBefore - TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Token_Sign_KeepsTheKeyWithTheRequester()
    {
        var (client, issuer) = New(StaticToken);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=SN-A", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        using var signed = await issuer.SignAsync(CaKind.AgentClient, csr, CertificateProfiles.AgentClient("SN-A", TimeSpan.FromDays(1)), default);

        Assert.False(signed.Certificate.HasPrivateKey);
        using var pub = signed.Certificate.GetECDsaPublicKey()!;
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), pub.ExportSubjectPublicKeyInfo());
        Assert.Empty(CertificateChecks.ValidateChain(signed.Certificate, await issuer.GetCaChainAsync(CaKind.AgentClient, default)));
        Assert.Equal(csr, (string?)_vault.Bodies.Single(b => b.ContainsKey("csr"))["csr"]);
        Assert.DoesNotContain(_vault.Bodies, b => b.ContainsKey("private_key_format") && b.ContainsKey("csr"));

        var info = await client.LookupSelfAsync(default);
        Assert.Contains("root", info.Policies);
        Assert.Equal(0, _vault.Logins);
    }

    [Fact]
    public async Task ExpiredToken_AppRole_LogsInAgainOnce_AndTheCallSucceeds()
    {
        var (client, issuer) = New(AppRole);
        using (await issuer.IssueAsync(CaKind.BootServerHttps, Https, default))
        {
        }

        _vault.ExpireAllTokens();
        using var again = await issuer.IssueAsync(CaKind.BootServerHttps, Https, default);

        Assert.NotNull(again.Certificate);
        Assert.Equal(2, _vault.Logins);
        Assert.Equal(2, client.LoginCount);
        Assert.Equal(3, _vault.RequestsTo("nekko-https/issue/nekko")); // ok, 403, ok
    }

    [Fact]
    public async Task PermissionDenied_AppRole_TriesOneFreshLogin_ThenATypedError()
    {
        var (_, issuer) = New(AppRole);
        _vault.DeniedPaths.Add("nekko-https/issue/nekko");

        var e = await Assert.ThrowsAsync<VaultPermissionDeniedException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));

        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Equal(["permission denied"], e.Errors);
        Assert.Contains("POST nekko-https/issue/nekko", e.Message);
        Assert.Contains("policies", e.Message);
        Assert.False(e.IsTransient);
        Assert.Equal(2, _vault.Logins);
        Assert.Equal(2, _vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public async Task PermissionDenied_StaticToken_IsNotRetried()
    {
        var (_, issuer) = New(StaticToken);
        _vault.DeniedPaths.Add("nekko-https/issue/nekko");
        await Assert.ThrowsAsync<VaultPermissionDeniedException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));
        Assert.Equal(1, _vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public async Task TokenFile_IsReadAgain_WhenVaultRefusesTheTokenItHeld()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "vault-token");
        await File.WriteAllTextAsync(file, _vault.CreateToken() + "\n");
        var (_, issuer) = New(StaticToken with { Token = null, TokenFile = file });
        using (await issuer.IssueAsync(CaKind.BootServerHttps, Https, default))
        {
        }

        _vault.ExpireAllTokens();
        await File.WriteAllTextAsync(file, _vault.CreateToken()); // Vault Agent wrote a fresh one
        using var again = await issuer.IssueAsync(CaKind.BootServerHttps, Https, default);
        Assert.Equal(3, _vault.RequestsTo("nekko-https/issue/nekko"));

        _vault.ExpireAllTokens(); // and nobody writes a new one: one look at the file, then the error
        await Assert.ThrowsAsync<VaultPermissionDeniedException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));
        Assert.Equal(4, _vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public async Task DeadStaticToken_IsReportedAtStart()
    {
        var (_, issuer) = New(StaticToken with { Token = "hvs.not-a-token" });
        var e = await Assert.ThrowsAsync<VaultPermissionDeniedException>(() => issuer.InitializeAsync(default));
        Assert.Contains("auth/token/lookup-self", e.Message);
        Assert.DoesNotContain("hvs.not-a-token", e.Message);
    }

    [Fact]
    public async Task Sealed_IsATypedError_NotRetried()
    {
        var (_, issuer) = New(AppRole);
        await issuer.InitializeAsync(default);
        _vault.Sealed = true;

        var e = await Assert.ThrowsAsync<VaultSealedException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Contains("Vault is sealed", e.Message);
        Assert.Contains("unseal", e.Message);
        Assert.False(e.IsTransient);
        Assert.Equal(1, _vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public async Task TransientServerErrors_AreRetriedWithBackoff()
    {
        var (_, issuer) = New(StaticToken);
        await issuer.InitializeAsync(default);
        _vault.FailNext(2, 502);
        using var issued = await issuer.IssueAsync(CaKind.BootServerHttps, Https, default);
        Assert.Equal(3, _vault.RequestsTo("nekko-https/issue/nekko"));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 4102);
    }

    [Fact]
    public async Task PersistentServerErrors_EndAsTransientUnavailable_AfterMaxAttempts()
    {
        var (_, issuer) = New(StaticToken with { MaxAttempts = 3 });
        await issuer.InitializeAsync(default);
        _vault.FailNext(10, 500);
        var e = await Assert.ThrowsAsync<VaultUnavailableException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));
        Assert.True(e.IsTransient);
        Assert.Equal(HttpStatusCode.InternalServerError, e.StatusCode);
        Assert.Equal(3, _vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public async Task NoAnswer_IsTransientUnavailable()
    {
        var dead = new Uri($"http://127.0.0.1:{TestKit.EtcdServer.FreePort()}/");
        var (_, issuer) = New(StaticToken with { Address = dead, MaxAttempts = 2 });
        var e = await Assert.ThrowsAsync<VaultUnavailableException>(() => issuer.InitializeAsync(default));
        Assert.True(e.IsTransient);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task UnknownRole_And_UnknownMount_AreTypedErrors()
    {
        var options = StaticToken with
        {
            Cas = new Dictionary<CaKind, VaultCaBinding>(StaticToken.Cas)
            {
                [CaKind.BootServerHttps] = new() { Mount = "nekko-https", Role = "nope" },
                [CaKind.Kubernetes] = new() { Mount = "no-such-mount", Role = "nekko" },
            },
        };
        var (_, issuer) = New(options);

        var role = await Assert.ThrowsAsync<VaultBadRequestException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));
        Assert.Equal(HttpStatusCode.BadRequest, role.StatusCode);
        Assert.Contains("unknown role: nope", role.Message);
        Assert.Contains("role does not exist", role.Message);

        var mount = await Assert.ThrowsAsync<VaultNotFoundException>(() => issuer.GetCaChainAsync(CaKind.Kubernetes, default));
        Assert.Contains("no-such-mount", mount.Message);
    }

    [Fact]
    public async Task BadAppRoleSecret_IsABadRequest_WithoutTheSecretInTheMessage()
    {
        var (_, issuer) = New(AppRole with { SecretId = "wrong-secret-0000" });
        var e = await Assert.ThrowsAsync<VaultBadRequestException>(() => issuer.InitializeAsync(default));
        Assert.Contains("invalid role or secret ID", e.Message);
        Assert.DoesNotContain("wrong-secret-0000", e.Message);
    }

    [Fact]
    public async Task RoleWithoutTheRequestedUsage_IsAClearMismatch()
    {
        var (_, issuer) = New(StaticToken);
        var e = await Assert.ThrowsAsync<CertificateMismatchException>(() =>
            issuer.IssueAsync(CaKind.BootServerHttps, Https with { Usage = CertificateUsage.ServerAndClient }, default));
        Assert.Contains("client_flag", e.Message);
    }

    [Fact]
    public async Task Token_IsRenewedAtTwoThirdsOfItsLease_AndReplacedByLoginWhenNotRenewable()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _vault.LeaseSeconds = 300;
        var (client, _) = New(AppRole with { RetryBaseDelay = TimeSpan.Zero }, time);
        await client.EnsureAuthenticatedAsync(default);

        time.Advance(TimeSpan.FromSeconds(150));
        await client.MaintainTokenAsync(default);
        Assert.Equal(0, _vault.Renewals);

        time.Advance(TimeSpan.FromSeconds(60)); // 210 s > 200 s
        await client.MaintainTokenAsync(default);
        Assert.Equal(1, _vault.Renewals);
        Assert.Equal(1, _vault.Logins);

        _vault.TokensRenewable = false;
        await client.MaintainTokenAsync(default); // lease started again at the renewal: not due
        Assert.Equal(1, _vault.Renewals);
        time.Advance(TimeSpan.FromSeconds(250));
        await client.MaintainTokenAsync(default); // renew-self refused → log in again
        Assert.Equal(2, _vault.Logins);
    }

    [Fact]
    public async Task NoSecretEverAppearsInLogsOrErrors()
    {
        var (client, issuer) = New(AppRole);
        using (await issuer.IssueAsync(CaKind.BootServerHttps, Https, default))
        {
        }

        _vault.ExpireAllTokens();
        using (await issuer.IssueAsync(CaKind.BootServerHttps, Https, default))
        {
        }

        _vault.FailNext(1, 502);
        using (await issuer.IssueAsync(CaKind.BootServerHttps, Https, default))
        {
        }

        _vault.DeniedPaths.Add("nekko-https/issue/nekko");
        var e = await Assert.ThrowsAsync<VaultPermissionDeniedException>(() => issuer.IssueAsync(CaKind.BootServerHttps, Https, default));

        var text = string.Join("\n", _logs.GetSnapshot().Select(r => r.Message)) + "\n" + e;
        Assert.NotEmpty(_logs.GetSnapshot());
        Assert.DoesNotContain(FakeVault.SecretId, text);
        Assert.DoesNotContain("hvs.", text);
        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.True(client.LoginCount >= 2);
    }
}
