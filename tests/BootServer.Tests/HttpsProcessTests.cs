using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using NekkoMetal.Cli;
using NekkoMetal.Pki;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Real nekko-bootserver processes on the shared etcd: the API answers only over HTTPS with a certificate of the
/// boot-server CA written to DATA_DIR/ca.pem; plain HTTP serves the firmware paths and refuses the API (421,
/// nothing changed); nekkoctl trusts ca.pem and refuses another boot server's CA; a second boot server on the same
/// etcd (with the same KEK file) serves a certificate of the same CA; <c>nekkoctl pki issue</c> gives a chain that
/// validates.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class HttpsProcessTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly List<(BootServerProcess Process, string DataDir, StringWriter Log)> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (process, dataDir, log) in _servers)
        {
            await process.StopAsync();
            process.Dispose();
            log.Dispose();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private async Task<(BootServerProcess Process, string DataDir, string HttpUrl)> StartAsync(string name, string? prefix = null, params string[] extra)
    {
        prefix ??= _prefix;
        var dataDir = Directory.CreateTempSubdirectory($"nekko-https-{name}-").FullName;
        BootServerTrust.WriteSharedKek(dataDir, prefix);
        var http = $"http://127.0.0.1:{EtcdServer.FreePort()}";
        var log = new StringWriter();
        var process = await BootServerProcess.StartAsync(http, log,
            [
                "--data-dir", dataDir, "--http-url", http, "--etcd-endpoints", etcd.Endpoint, "--etcd-prefix", prefix,
                "--tftp-port", "0", "--server-id", "https-" + name, .. extra,
            ]);
        _servers.Add((process, dataDir, log));
        return (process, dataDir, http);
    }

    private static async Task<string> TokenAsync(string dataDir)
    {
        var file = Path.Combine(dataDir, "admin.token");
        await AssetsApiTests.Eventually(() => File.Exists(file), "the admin token is written");
        return (await File.ReadAllTextAsync(file)).Trim();
    }

    private static async Task<(int Code, string Out, string Err)> Nekkoctl(string server, IDictionary<string, string?> env, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var all = new Dictionary<string, string?>(env) { ["NEKKO_SERVER"] = server };
        var code = await CliApp.RunAsync(args, null, stdout, stderr, all);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The certificate a server presents on its HTTPS port (accepted whatever it is, to inspect it).</summary>
    private static async Task<X509Certificate2> PresentedCertificateAsync(string httpsUrl)
    {
        var uri = new Uri(httpsUrl);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port);
#pragma warning disable CA5359 // the test inspects whatever the server presents; the checks come after
        await using var tls = new SslStream(socket.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync(uri.Host);
        return new X509Certificate2(tls.RemoteCertificate!);
    }

    [Fact]
    public async Task ApiOverPlainHttp_IsRefused_NothingChanges_FirmwarePathsStillServed()
    {
        var (a, dataDir, http) = await StartAsync("plain");
        var token = await TokenAsync(dataDir);
        using var plain = new HttpClient { BaseAddress = new Uri(http) };
        plain.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        using var post = await plain.PostAsJsonAsync("/api/v1/machines", new { serial = "PLAIN-1", macs = new[] { "52:54:00:aa:00:01" } });
        Assert.Equal(HttpStatusCode.MisdirectedRequest, post.StatusCode);
        Assert.Equal("application/problem+json", post.Content.Headers.ContentType?.MediaType);
        var problem = await post.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(a.HttpsUrl + "/api/v1/machines", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var get = await plain.GetAsync("/api/v1/machines");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, get.StatusCode);

        using var api = a.ApiClient(token);
        Assert.Equal(0, (await api.GetFromJsonAsync<JsonElement>("/api/v1/machines")).GetArrayLength());
        var audit = await api.GetFromJsonAsync<JsonElement>("/api/v1/audit");
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "machine.create");

        // what firmware and the discovery image need stays on plain HTTP
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync("/boot/boot.ipxe")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync("/health/ready")).StatusCode);
        using var discovery = await plain.PostAsJsonAsync("/api/v1/discovery", new { serial = "X" });
        Assert.NotEqual(HttpStatusCode.MisdirectedRequest, discovery.StatusCode); // its bootstrap token decides (401 here)
    }

    [Fact]
    public async Task InsecureHttpApi_ServesTheApiOnPlainHttp_AndWarns()
    {
        var (a, dataDir, http) = await StartAsync("insecure", EtcdFixture.NewPrefix(), "--insecure-http-api");
        var token = await TokenAsync(dataDir);
        using var plain = new HttpClient { BaseAddress = new Uri(http) };
        plain.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync("/api/v1/machines")).StatusCode);
        Assert.Contains("INSECURE: --insecure-http-api", a.Log(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nekkoctl_OverHttps_TrustsCaPem_AndRefusesAnotherBootServersCa()
    {
        var (a, dataDirA, _) = await StartAsync("a");
        var (other, dataDirOther, _) = await StartAsync("other", EtcdFixture.NewPrefix());
        var token = await TokenAsync(dataDirA);
        var env = new Dictionary<string, string?> { ["NEKKO_DATA_DIR"] = dataDirA };

        var add = await Nekkoctl(a.HttpsUrl, env, "machines", "add", "HTTPS-1", "--mac", "52:54:00:aa:00:02");
        Assert.True(add.Code == 0, add.Err + a.Log());
        Assert.Contains("HTTPS-1", (await Nekkoctl(a.HttpsUrl, env, "machines", "list")).Out, StringComparison.Ordinal);

        // the other boot server has a CA of its own: A's ca.pem does not vouch for it
        var refused = await Nekkoctl(other.HttpsUrl, new Dictionary<string, string?> { ["NEKKO_DATA_DIR"] = dataDirA, ["NEKKO_TOKEN"] = token }, "machines", "list");
        Assert.Equal(3, refused.Code);
        Assert.Contains("certificate is not trusted", refused.Err, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dataDirA, "ca.pem"), refused.Err, StringComparison.Ordinal);
        Assert.NotEqual(await File.ReadAllTextAsync(Path.Combine(dataDirA, "ca.pem")), await File.ReadAllTextAsync(Path.Combine(dataDirOther, "ca.pem")));

        // nekkoctl pki ca prints the same chain as ca.pem
        var ca = await Nekkoctl(a.HttpsUrl, env, "pki", "ca");
        Assert.True(ca.Code == 0, ca.Err);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(dataDirA, "ca.pem")), ca.Out);
    }

    [Fact]
    public async Task SecondBootServerOnTheSameEtcd_ServesACertificateOfTheSameCa()
    {
        var (a, dataDirA, _) = await StartAsync("first");
        var (b, dataDirB, _) = await StartAsync("second");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(dataDirA, "ca.pem")), await File.ReadAllTextAsync(Path.Combine(dataDirB, "ca.pem")));

        var roots = BootServerTrust.CaCertificates(dataDirA);
        using var certA = await PresentedCertificateAsync(a.HttpsUrl);
        using var certB = await PresentedCertificateAsync(b.HttpsUrl);
        Assert.NotEqual(certA.SerialNumber, certB.SerialNumber);
        Assert.Empty(CertificateChecks.ValidateChain(certB, roots));
        Assert.Contains(IPAddress.Loopback, CertificateChecks.SubjectAlternativeNames(certB).Ips);
        Assert.Contains(CertificateChecks.ServerAuthOid, CertificateChecks.ExtendedKeyUsages(certB));

        // and B's API, reached with A's ca.pem, works
        var token = await TokenAsync(dataDirA);
        using var api = new HttpClient(BootServerTrust.Handler(dataDirA)) { BaseAddress = new Uri(b.HttpsUrl) };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/machines")).StatusCode);
    }

    [Fact]
    public async Task NekkoctlPkiIssue_GivesAChainThatValidates_WithTheRequestedNamesAndUsage()
    {
        var (a, dataDir, _) = await StartAsync("issue");
        var env = new Dictionary<string, string?> { ["NEKKO_DATA_DIR"] = dataDir };
        var certFile = Path.Combine(dataDir, "web.crt");
        var keyFile = Path.Combine(dataDir, "web.key");
        var caFile = Path.Combine(dataDir, "web-ca.pem");

        var issued = await Nekkoctl(a.HttpsUrl, env, "pki", "issue", "--cn", "web.lab", "--dns", "web.lab", "--dns", "www.lab",
            "--ip", "10.1.2.3", "--usage", "server", "--days", "10", "--out-cert", certFile, "--out-key", keyFile, "--out-ca", caFile);
        Assert.True(issued.Code == 0, issued.Err + a.Log());
        Assert.Empty(issued.Out);
        Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(keyFile), 8));

        using var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        Assert.True(cert.HasPrivateKey);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(caFile);
        Assert.Empty(CertificateChecks.ValidateChain(cert, chain));
        Assert.Empty(CertificateChecks.ValidateChain(cert, BootServerTrust.CaCertificates(dataDir))); // the boot-server HTTPS CA
        var (dns, ips, _) = CertificateChecks.SubjectAlternativeNames(cert);
        Assert.Equal(["web.lab", "www.lab"], dns);
        Assert.Equal([IPAddress.Parse("10.1.2.3")], ips);
        Assert.Equal([CertificateChecks.ServerAuthOid], CertificateChecks.ExtendedKeyUsages(cert));
        Assert.InRange(cert.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromDays(9.9), TimeSpan.FromDays(10.1));

        // a client certificate of the agent CA does not validate against the HTTPS CA
        var agent = await Nekkoctl(a.HttpsUrl, env, "pki", "issue", "--cn", "ops", "--usage", "client", "--ca", "agent", "-o", "json");
        Assert.True(agent.Code == 0, agent.Err);
        var json = JsonDocument.Parse(agent.Out).RootElement;
        Assert.Equal("agent-client", json.GetProperty("ca").GetString());
        using var agentCert = X509Certificate2.CreateFromPem(json.GetProperty("certificatePem").GetString());
        Assert.NotEmpty(CertificateChecks.ValidateChain(agentCert, BootServerTrust.CaCertificates(dataDir)));
        Assert.Equal([CertificateChecks.ClientAuthOid], CertificateChecks.ExtendedKeyUsages(agentCert));

        // the key is handed out once: neither the log nor the audit carries it
        var key = await File.ReadAllTextAsync(keyFile);
        var body = key.Split('\n')[1];
        Assert.DoesNotContain(body, a.Log(), StringComparison.Ordinal);
        using var api = a.ApiClient(await TokenAsync(dataDir));
        var audit = await api.GetStringAsync("/api/v1/audit");
        Assert.Contains("pki.issue", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(body, audit, StringComparison.Ordinal);
    }
}
