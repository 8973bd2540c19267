using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Enrolment;
using NekkoMetal.NodeAgent.Heartbeat;

namespace NekkoMetal.NodeAgent.Tests;

/// <summary>
/// The real agent code (<see cref="AgentCredentials"/> + <see cref="HttpHeartbeatSink"/>) against a stand-in of the
/// boot servers' agent API on real Kestrel HTTPS with client certificates asked for: it signs CSRs with an agent CA
/// made in the test, takes its bootstrap token once, and answers heartbeats and renewals only over mTLS with a
/// certificate of that CA. The agent enrols once with the token file and a CSR of a key it generated, keeps key and
/// certificate in its state directory (0600), heartbeats with the certificate, loads it again after a restart
/// without enrolling, and renews over mTLS (no token) after two thirds of its lifetime. (The real boot server's side
/// is tests/BootServer.Tests/AgentMtlsTests.cs; the real agent binary against a real boot server is
/// tests/EndToEnd.Tests/Nodes/AgentOnNodesTests.cs.)
/// </summary>
public sealed class AgentCredentialsTests : IAsyncLifetime
{
    private const string Token = "nekkoboot_stand-in-token";
    private readonly string _dir = Directory.CreateTempSubdirectory("nekko-agent-cred-").FullName;
    private AgentApiStandIn _server = null!;

    public async Task InitializeAsync()
    {
        _server = await AgentApiStandIn.StartAsync();
        File.WriteAllText(Path.Combine(_dir, "ca.pem"), _server.ServerCa.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "agent.token"), Token + "\n");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private IOptions<AgentOptions> Options() => Microsoft.Extensions.Options.Options.Create(new AgentOptions
    {
        BootServers = [_server.Url],
        TokenFile = Path.Combine(_dir, "agent.token"),
        CaFile = Path.Combine(_dir, "ca.pem"),
        StateDirectory = Path.Combine(_dir, "state"),
        Serial = "SN-1",
    });

    private static AgentHeartbeat Heartbeat() => new(null, new HealthReport(DateTimeOffset.UnixEpoch, CheckStatus.Ok, [CheckResult.Ok("filesystem", "fine")]));

    [Fact]
    public async Task Enrols_once_with_the_token_heartbeats_over_mtls_and_keeps_its_key_private()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using (var credentials = new AgentCredentials(Options(), time, NullLogger<AgentCredentials>.Instance))
        using (var sink = new HttpHeartbeatSink(Options(), credentials, time, NullLogger<HttpHeartbeatSink>.Instance))
        {
            await sink.SendAsync(Heartbeat(), CancellationToken.None);
            await sink.SendAsync(Heartbeat(), CancellationToken.None);
        }

        Assert.Equal(1, _server.Enrolments);
        Assert.Equal(["SN-1", "SN-1"], _server.Heartbeats);
        var pem = Path.Combine(_dir, "state", AgentCredentials.FileName);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pem));
        }

        Assert.Contains("PRIVATE KEY", File.ReadAllText(pem), StringComparison.Ordinal);
        using var stored = X509Certificate2.CreateFromPemFile(pem);
        using var storedKey = stored.GetECDsaPrivateKey();
        Assert.Equal(256, storedKey!.KeySize); // ECDSA P-256, with the private key beside the certificate
        Assert.DoesNotContain(_server.RequestBodies, b => b.Contains("PRIVATE KEY", StringComparison.Ordinal)); // only the CSR travelled

        // A restarted agent loads what it has: no second enrolment (the token is used up anyway).
        using (var credentials = new AgentCredentials(Options(), time, NullLogger<AgentCredentials>.Instance))
        using (var sink = new HttpHeartbeatSink(Options(), credentials, time, NullLogger<HttpHeartbeatSink>.Instance))
        {
            await sink.SendAsync(Heartbeat(), CancellationToken.None);
        }

        Assert.Equal(1, _server.Enrolments);
        Assert.Equal(3, _server.Heartbeats.Count);
    }

    [Fact]
    public async Task Renews_over_mtls_after_two_thirds_of_the_lifetime_and_uses_the_new_certificate()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var credentials = new AgentCredentials(Options(), time, NullLogger<AgentCredentials>.Instance);
        using var sink = new HttpHeartbeatSink(Options(), credentials, time, NullLogger<HttpHeartbeatSink>.Instance);
        await sink.SendAsync(Heartbeat(), CancellationToken.None);
        var first = (await credentials.GetAsync("SN-1", CancellationToken.None))!;

        time.Advance(TimeSpan.FromMinutes(45)); // of 60 (the stand-in's lifetime): past two thirds
        await sink.SendAsync(Heartbeat(), CancellationToken.None);
        using var second = X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "state", AgentCredentials.FileName)); // what it stored

        Assert.Equal(1, _server.Enrolments);
        Assert.Equal(1, _server.Renewals);
        Assert.Equal(first.Thumbprint, _server.RenewedWith.Single()); // authenticated by the old certificate, not a token
        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.False(first.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo().SequenceEqual(second.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo())); // a fresh key
        Assert.Equal([first.Thumbprint, second.Thumbprint], _server.HeartbeatCertificates); // the heartbeat after the renewal used the new one
    }

    [Fact]
    public async Task Without_a_token_and_without_a_certificate_nothing_is_sent_and_the_token_is_never_logged()
    {
        var logs = new ListLogger();
        File.Delete(Path.Combine(_dir, "agent.token"));
        using (var credentials = new AgentCredentials(Options(), TimeProvider.System, logs.For<AgentCredentials>()))
        using (var sink = new HttpHeartbeatSink(Options(), credentials, TimeProvider.System, NullLogger<HttpHeartbeatSink>.Instance))
        {
            await sink.SendAsync(Heartbeat(), CancellationToken.None);
        }

        Assert.Empty(_server.Heartbeats);
        Assert.Contains(logs.Messages, m => m.Contains("bootstrap token file", StringComparison.Ordinal));

        // A token the stand-in refuses: refused, logged without the token.
        File.WriteAllText(Path.Combine(_dir, "agent.token"), "nekkoboot_wrong-token\n");
        using (var credentials = new AgentCredentials(Options(), TimeProvider.System, logs.For<AgentCredentials>()))
        {
            Assert.Null(await credentials.GetAsync("SN-1", CancellationToken.None));
        }

        Assert.Contains(logs.Messages, m => m.Contains("401", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Contains("wrong-token", StringComparison.Ordinal));
    }

    /// <summary>Collects formatted messages.</summary>
    private sealed class ListLogger
    {
        public List<string> Messages { get; } = [];

        public ILogger<T> For<T>() => new Logger<T>(this);

        private sealed class Logger<T>(ListLogger owner) : ILogger<T>
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Messages)
                {
                    owner.Messages.Add(formatter(state, exception));
                }
            }
        }
    }

    /// <summary>
    /// The agent API as far as the agent sees it: enrol (single-use token + CSR → certificate of the agent CA, 1 h),
    /// renew and heartbeat (client certificate of the agent CA required, else 401).
    /// </summary>
    private sealed class AgentApiStandIn : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ECDsa _serverCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly ECDsa _agentCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private bool _tokenUsed;

        private AgentApiStandIn(WebApplication app) => _app = app;

        public X509Certificate2 ServerCa { get; private set; } = null!;

        public X509Certificate2 AgentCa { get; private set; } = null!;

        public X509Certificate2 ServerLeaf { get; private set; } = null!;

        public string Url { get; private set; } = "";

        public int Enrolments { get; private set; }

        public int Renewals { get; private set; }

        public List<string> Heartbeats { get; } = [];

        public List<string> HeartbeatCertificates { get; } = [];

        public List<string> RenewedWith { get; } = [];

        public List<string> RequestBodies { get; } = [];

        public static async Task<AgentApiStandIn> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            AgentApiStandIn? self = null;
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(h =>
            {
                h.ServerCertificateSelector = (_, _) => self!.ServerLeaf; // read at each handshake: made after Build
                h.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                h.AllowAnyClientCertificate();
            })));
            var app = builder.Build();
            self = new AgentApiStandIn(app);
            self.ServerCa = SelfSigned("stand-in boot-server CA", self._serverCaKey);
            self.AgentCa = SelfSigned("stand-in agent CA", self._agentCaKey);
            self.ServerLeaf = self.ServerCertificate();
            app.MapPost(AgentCredentials.EnrolPath, (Delegate)self.EnrolAsync);
            app.MapPost(AgentCredentials.RenewPath, (Delegate)self.RenewAsync);
            app.MapPost(HttpHeartbeatSink.Path, (Delegate)self.HeartbeatAsync);
            await app.StartAsync();
            self.Url = app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
            return self;
        }

        private async Task<IResult> EnrolAsync(HttpContext context)
        {
            var body = await ReadAsync(context);
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + Token || _tokenUsed)
            {
                return Results.Problem(statusCode: 401, detail: "bad or used token");
            }

            _tokenUsed = true;
            Enrolments++;
            return Sign(body);
        }

        private async Task<IResult> RenewAsync(HttpContext context)
        {
            var body = await ReadAsync(context);
            if (!IsAgent(context.Connection.ClientCertificate))
            {
                return Results.Problem(statusCode: 401, detail: "no agent certificate");
            }

            Renewals++;
            RenewedWith.Add(context.Connection.ClientCertificate!.Thumbprint);
            return Sign(body);
        }

        private async Task<IResult> HeartbeatAsync(HttpContext context)
        {
            var body = await ReadAsync(context);
            var certificate = context.Connection.ClientCertificate;
            if (!IsAgent(certificate))
            {
                return Results.Problem(statusCode: 401, detail: "no agent certificate");
            }

            lock (Heartbeats)
            {
                Heartbeats.Add(body.GetProperty("serial").GetString()!);
                HeartbeatCertificates.Add(certificate!.Thumbprint);
            }

            return Results.Ok();
        }

        private async Task<JsonElement> ReadAsync(HttpContext context)
        {
            using var reader = new StreamReader(context.Request.Body);
            var text = await reader.ReadToEndAsync();
            lock (RequestBodies)
            {
                RequestBodies.Add(text);
            }

            return JsonDocument.Parse(text).RootElement.Clone();
        }

        private bool IsAgent(X509Certificate2? certificate)
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(AgentCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        }

        private IResult Sign(JsonElement body)
        {
            var csr = CertificateRequest.LoadSigningRequestPem(body.GetProperty("csr").GetString()!, HashAlgorithmName.SHA256);
            var serial = body.GetProperty("serial").GetString()!;
            var request = new CertificateRequest(new X500DistinguishedName("CN=" + serial), csr.PublicKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            var now = DateTimeOffset.UtcNow;
            using var issued = request.Create(AgentCa.SubjectName, X509SignatureGenerator.CreateForECDsa(_agentCaKey), now.AddSeconds(-30), now.AddHours(1), Serial());
            return Results.Ok(new
            {
                serial,
                certificatePem = issued.ExportCertificatePem(),
                caChainPem = AgentCa.ExportCertificatePem(),
                notBefore = issued.NotBefore.ToUniversalTime(),
                notAfter = issued.NotAfter.ToUniversalTime(),
                renewAfter = issued.NotBefore.ToUniversalTime().AddMinutes(40),
            });
        }

        private X509Certificate2 ServerCertificate()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            using var issued = request.Create(ServerCa, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), Serial());
            using var withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        private static X509Certificate2 SelfSigned(string name, ECDsa key)
        {
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        }

        private static byte[] Serial()
        {
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            return serial;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            ServerCa.Dispose();
            AgentCa.Dispose();
            ServerLeaf.Dispose();
            _serverCaKey.Dispose();
            _agentCaKey.Dispose();
        }
    }
}
