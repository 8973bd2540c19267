using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

using static NekkoMetal.BootServer.Tests.AgentCredentialsKit;
using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Issue 5 must-show 3 on a real boot server (in process, real Kestrel sockets, real TLS handshakes with client
/// certificates) and a real etcd: an agent trades its single-use bootstrap token and a CSR for a client certificate
/// bound to its serial, then heartbeats and renews over mTLS. Refused: a certificate for A speaking for B (403), no
/// certificate, one of another CA or one that has expired (401), a retired or deleted machine's certificate (403, on
/// the very connection that was just accepted); the token is single-use (also under concurrent enrolments), expires,
/// and a bad CSR uses nothing up.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed partial class AgentMtlsTests(EtcdFixture etcd, ITestOutputHelper output) : IAsyncLifetime
{
    private const string A = "SN-MTLS-A";
    private const string B = "SN-MTLS-B";
    private KestrelBootServer _server = null!;
    private HttpClient _admin = null!;
    private HttpClient _anonymous = null!;

    public async Task InitializeAsync()
    {
        _server = await KestrelBootServer.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?> { ["bootstrapTokenTtlMinutes"] = "90" });
        _admin = _server.Client(await _server.AdminTokenAsync());
        _anonymous = _server.Client();
        await Expect(await _admin.PostAsync("/api/v1/machines", JsonOf(new { serial = A, macs = new[] { "52:54:00:05:03:01" } })), HttpStatusCode.Created);
        await Expect(await _admin.PostAsync("/api/v1/machines", JsonOf(new { serial = B, macs = new[] { "52:54:00:05:03:02" } })), HttpStatusCode.Created);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _anonymous.Dispose();
        await _server.DisposeAsync();
    }

    private BootstrapTokenRepository Tokens => _server.Services.GetRequiredService<BootstrapTokenRepository>();

    private Task<string> TokenAsync(string serial, TimeSpan? lifetime = null) =>
        Tokens.IssueForMachineAsync(ConfigEndpoints.AgentBootstrapPurpose, lifetime ?? TimeSpan.FromHours(1), null, serial, default);

    private Task<MachineHealth?> StoredAsync(string serial) => _server.Services.GetRequiredService<HealthRepository>().GetAsync(serial, default);

    private async Task<X509Certificate2[]> AgentCaAsync()
    {
        var pem = (await Expect(await _admin.GetAsync("/api/v1/pki/ca/agent-client"), HttpStatusCode.OK)).GetProperty("pem").GetString()!;
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(pem);
        return [.. chain];
    }

    [Fact]
    public async Task Enrolled_agent_heartbeats_and_renews_over_mtls_with_a_certificate_bound_to_its_serial_whatever_the_csr_said()
    {
        using var certificate = await EnrolAsync(_anonymous, await TokenAsync(A));

        Assert.Equal(A, certificate.GetNameInfo(X509NameType.SimpleName, false)); // the CSR asked for another name and URI
        Assert.True(CertificateProfiles.TryGetMachineSerial(certificate, out var bound));
        Assert.Equal(A, bound);
        Assert.Contains(CertificateChecks.ClientAuthOid, CertificateChecks.ExtendedKeyUsages(certificate));
        Assert.Empty(CertificateChecks.ValidateChain(certificate, await AgentCaAsync()));
        Assert.NotEmpty(CertificateChecks.ValidateChain(certificate, TestKit.BootServerTrust.CaCertificates(_server.DataDir))); // not the HTTPS CA

        using var mtls = _server.Client(clientCertificate: certificate);
        var ack = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.OK);
        Assert.Equal(A, ack.GetProperty("serial").GetString());
        Assert.NotNull(await StoredAsync(A));

        using var renewed = await RenewAsync(mtls);
        Assert.NotEqual(certificate.SerialNumber, renewed.SerialNumber);
        Assert.Equal(A, renewed.GetNameInfo(X509NameType.SimpleName, false));
        using var next = _server.Client(clientCertificate: renewed);
        await Expect(await next.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.OK);
        await Expect(await _anonymous.PostAsync(AgentApi.RenewPath, JsonOf(new { csr = NewCsr().Csr })), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_certificate_for_A_cannot_heartbeat_or_renew_for_B()
    {
        using var certificate = await EnrolAsync(_anonymous, await TokenAsync(A));
        using var mtls = _server.Client(clientCertificate: certificate);

        var problem = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(B)), HttpStatusCode.Forbidden);
        Assert.Contains(A, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Expect(await mtls.PostAsync(AgentApi.RenewPath, JsonOf(new { serial = B, csr = NewCsr().Csr })), HttpStatusCode.Forbidden);
        Assert.Null(await StoredAsync(B));

        // And a bootstrap token of A does not enrol B.
        var tokenA = await TokenAsync(A);
        using var forB = EnrolRequest(tokenA, NewCsr().Csr, B);
        await Expect(await _anonymous.SendAsync(forB), HttpStatusCode.Forbidden);
        (await EnrolAsync(_anonymous, tokenA)).Dispose(); // not used up by the refusal
    }

    [Fact]
    public async Task No_client_certificate_or_one_of_another_CA_is_401()
    {
        var problem = await Expect(await _anonymous.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Unauthorized);
        Assert.Equal("application/problem+json", (await _anonymous.PostAsync(AgentApi.HeartbeatPath, Beat(A))).Content.Headers.ContentType?.MediaType);
        Assert.Contains("enrol", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The bootstrap token is no credential for heartbeats any more (and is not used up by trying).
        var token = await TokenAsync(A);
        using (var withToken = new HttpRequestMessage(HttpMethod.Post, AgentApi.HeartbeatPath) { Content = Beat(A) })
        {
            withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            await Expect(await _anonymous.SendAsync(withToken), HttpStatusCode.Unauthorized);
        }

        // A CA made here, issuing a certificate that says exactly what an agent certificate says.
        using var foreign = ForeignAgentCertificate(A);
        using (var mtls = _server.Client(clientCertificate: foreign))
        {
            var refused = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Unauthorized);
            Assert.Contains("not issued by the agent CA", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // NekkoMetal's own HTTPS CA, and the agent CA without the machine binding (an admin's /pki/issue).
        foreach (var ca in new[] { "https", "agent" })
        {
            var issued = await Expect(await _admin.PostAsync("/api/v1/pki/issue", JsonOf(new { commonName = A, usage = "client", ca })), HttpStatusCode.OK);
            using var other = X509Certificate2.CreateFromPem(issued.GetProperty("certificatePem").GetString(), issued.GetProperty("privateKeyPem").GetString());
            using var exported = X509CertificateLoader.LoadPkcs12(other.Export(X509ContentType.Pkcs12), null);
            using var mtls = _server.Client(clientCertificate: exported);
            await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Unauthorized);
        }

        Assert.Null(await StoredAsync(A));
        (await EnrolAsync(_anonymous, token)).Dispose(); // the token tried as a heartbeat credential is still unused
    }

    [Fact]
    public async Task An_expired_certificate_is_refused()
    {
        // Signed by the real agent CA with a two-second lifetime (the CA backdates NotBefore by 30 s).
        var (key, csr) = NewCsr();
        using var issued = await _server.Services.GetRequiredService<ICertificateIssuer>()
            .SignAsync(CaKind.AgentClient, csr, CertificateProfiles.AgentClient(A, TimeSpan.FromSeconds(2)), default);
        using var withKey = issued.Certificate.CopyWithPrivateKey(key);
        using var certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        key.Dispose();
        using (var fresh = _server.Client(clientCertificate: certificate))
        {
            await Expect(await fresh.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.OK);
        }

        while (DateTime.UtcNow <= certificate.NotAfter.ToUniversalTime().AddMilliseconds(200))
        {
            await Task.Delay(100);
        }

        using var mtls = _server.Client(clientCertificate: certificate);
        var problem = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Expect(await mtls.PostAsync(AgentApi.RenewPath, JsonOf(new { csr = NewCsr().Csr })), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_retired_or_deleted_machines_certificate_is_refused_at_once_on_the_same_connection()
    {
        using var certificate = await EnrolAsync(_anonymous, await TokenAsync(A));
        using var mtls = _server.Client(clientCertificate: certificate);
        await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.OK);
        var unused = await TokenAsync(A);

        await Expect(await _admin.PutAsync($"/api/v1/machines/{A}/state", JsonOf(new { state = "retiring" })), HttpStatusCode.OK);
        var retiredAt = Stopwatch.StartNew();
        await Expect(await _admin.PutAsync($"/api/v1/machines/{A}/state", JsonOf(new { state = "retired" })), HttpStatusCode.OK);
        var cache = _server.Services.GetRequiredService<InventoryCache>();
        while (cache.GetMachine(A)?.State != MachineState.Retired)
        {
            Assert.True(retiredAt.Elapsed < TimeSpan.FromSeconds(5), "the inventory cache did not see the retirement");
            await Task.Delay(5);
        }

        var problem = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Forbidden);
        output.WriteLine($"refused {retiredAt.Elapsed.TotalMilliseconds:0} ms after the retirement was written");
        Assert.Contains("retired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Expect(await mtls.PostAsync(AgentApi.RenewPath, JsonOf(new { csr = NewCsr().Csr })), HttpStatusCode.Forbidden);
        using (var enrol = EnrolRequest(unused, NewCsr().Csr))
        {
            await Expect(await _anonymous.SendAsync(enrol), HttpStatusCode.Forbidden); // and no new certificate for it
        }

        await Expect(await _admin.DeleteAsync($"/api/v1/machines/{A}"), HttpStatusCode.NoContent);
        while (cache.GetMachine(A) is not null)
        {
            await Task.Delay(5);
        }

        problem = await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(A)), HttpStatusCode.Forbidden);
        Assert.Contains("not in the inventory", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bootstrap_token_is_single_use_even_under_concurrent_enrolments()
    {
        var token = await TokenAsync(A);
        (await EnrolAsync(_anonymous, token)).Dispose();
        using (var again = EnrolRequest(token, NewCsr().Csr))
        {
            await Expect(await _anonymous.SendAsync(again), HttpStatusCode.Unauthorized);
        }

        const int Racers = 8;
        var shared = await TokenAsync(B);
        var clients = Enumerable.Range(0, Racers).Select(_ => _server.Client()).ToList();
        using var start = new SemaphoreSlim(0, Racers);
        var racing = clients.Select(async c =>
        {
            using var request = EnrolRequest(shared, NewCsr().Csr);
            await start.WaitAsync();
            using var response = await c.SendAsync(request);
            return response.StatusCode;
        }).ToList();
        start.Release(Racers);
        var statuses = await Task.WhenAll(racing);
        clients.ForEach(c => c.Dispose());

        output.WriteLine(string.Join(", ", statuses.Select(s => (int)s)));
        Assert.Single(statuses, s => s == HttpStatusCode.OK);
        Assert.Equal(Racers - 1, statuses.Count(s => s == HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task The_bootstrap_token_expires_after_its_ttl_which_is_configurable()
    {
        var shortLived = await TokenAsync(A, TimeSpan.FromSeconds(2));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using (var late = EnrolRequest(shortLived, NewCsr().Csr))
        {
            await Expect(await _anonymous.SendAsync(late), HttpStatusCode.Unauthorized);
        }

        // The token a rendered configuration hands out lives --bootstrap-token-ttl-minutes (90 here).
        await Expect(await _admin.PutAsync("/api/v1/profiles/node", JsonOf(new
        {
            kernel = "vmlinuz",
            initrds = Array.Empty<string>(),
            cmdline = "console=ttyS0",
            config = new { kind = "cloud-init", userData = "#cloud-config\nnekko:\n  token: {{ bootstrap_token | json }}\n" },
        })), HttpStatusCode.Created);
        await Expect(await _admin.PostAsync("/api/v1/machines", JsonOf(new { serial = "SN-MTLS-C", macs = new[] { "52:54:00:05:03:03" }, role = "node" })), HttpStatusCode.Created);
        using var plain = new HttpClient { BaseAddress = new Uri(_server.HttpUrl) };
        var userData = await plain.GetStringAsync("/boot/config/SN-MTLS-C/user-data");
        var rendered = TokenLine().Match(userData).Groups[1].Value;
        var stored = await Tokens.FindAsync(rendered, ConfigEndpoints.AgentBootstrapPurpose, default);
        Assert.NotNull(stored);
        Assert.Equal(TimeSpan.FromMinutes(90), stored.ExpiresAt - stored.IssuedAt);
        (await EnrolAsync(_anonymous, rendered)).Dispose();

        var options = new AgentEnrolmentOptionsValidator();
        Assert.Equal(2, options.Validate(null, new AgentEnrolmentOptions { BootstrapTokenTtlMinutes = 0, AgentCertificateDays = 0 }).Failures!.Count());
        Assert.True(options.Validate(null, new AgentEnrolmentOptions()).Succeeded);
        Assert.Equal(TimeSpan.FromHours(24), new AgentEnrolmentOptions().BootstrapTokenTtl);
    }

    [Fact]
    public async Task A_bad_csr_is_400_and_uses_nothing_up()
    {
        var token = await TokenAsync(A);
        var (key, csr) = NewCsr();
        key.Dispose();
        var der = Convert.FromBase64String(string.Concat(csr.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^3] ^= 0x01; // inside the signature
        var tampered = PemEncoding.WriteString("CERTIFICATE REQUEST", der);

        using var rsa = RSA.Create(2048);
        var rsaCsr = new CertificateRequest("CN=rsa", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        var p521Csr = new CertificateRequest("CN=p521", p521, HashAlgorithmName.SHA512).CreateSigningRequestPem();

        foreach (var (bad, expect) in new[] { (tampered, "signature"), (rsaCsr, "not ECDSA"), (p521Csr, "P-521"), ("not a csr", "PKCS#10"), ("", "empty") })
        {
            using var request = EnrolRequest(token, bad);
            var problem = await Expect(await _anonymous.SendAsync(request), HttpStatusCode.BadRequest);
            var message = problem.GetProperty("errors").GetProperty("csr")[0].GetString();
            Assert.Contains(expect, message, StringComparison.Ordinal);
        }

        (await EnrolAsync(_anonymous, token)).Dispose(); // still unused
    }

    /// <summary>A self-made CA's certificate saying exactly what an agent certificate for <paramref name="serial"/> says.</summary>
    private static X509Certificate2 ForeignAgentCertificate(string serial)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=NekkoMetal agent-client CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={serial}, O={CertificateProfiles.AgentOrganization}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(CertificateProfiles.MachineUri(serial));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CertificateChecks.ClientAuthOid)], false));
        var serialNumber = RandomNumberGenerator.GetBytes(16);
        serialNumber[0] &= 0x7F;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), serialNumber);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    [GeneratedRegex("token: \"([^\"]+)\"")]
    private static partial Regex TokenLine();
}
