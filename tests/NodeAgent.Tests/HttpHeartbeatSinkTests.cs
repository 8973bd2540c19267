using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.NodeAgent.Actions;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Enrolment;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Heartbeat;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

/// <summary>
/// The heartbeat client against real Kestrel HTTPS servers on loopback (stand-ins for the boot servers' agent API:
/// each records what it got and answers the status the test gives it), with certificates from a CA made in the test:
/// the documented JSON arrives over mTLS with the agent's client certificate, a 5xx or a dead server moves on to the next boot server and the one
/// that answered is tried first afterwards, a 4xx is not repeated elsewhere, a certificate of another CA is refused.
/// </summary>
public sealed class HttpHeartbeatSinkTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nekko-agent-hb-").FullName;
    private readonly List<StandIn> _servers = [];
    private TestCa _ca = null!;
    private X509Certificate2 _client = null!;

    public Task InitializeAsync()
    {
        _ca = new TestCa("nekko test boot-server CA");
        File.WriteAllText(Path.Combine(_dir, "ca.pem"), _ca.Certificate.ExportCertificatePem());
        _client = _ca.IssueClient("SN-1");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _servers)
        {
            await s.DisposeAsync();
        }

        _ca.Dispose();
        _client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<StandIn> StartAsync(HttpStatusCode status, TestCa? ca = null)
    {
        var server = await StandIn.StartAsync(ca ?? _ca, status);
        _servers.Add(server);
        return server;
    }

    private HttpHeartbeatSink Sink(params string[] urls) => Sink(_client, urls);

    /// <summary>A sink whose local actions are the real ones, with commands that append to <paramref name="log"/> instead of rebooting.</summary>
    private HttpHeartbeatSink SinkWithActions(string url, string log, bool allow = true)
    {
        var options = Options.Create(new AgentOptions
        {
            BootServers = [url],
            CaFile = Path.Combine(_dir, "ca.pem"),
            AllowActions = allow,
            RebootCommand = ["/bin/sh", "-c", $"echo reboot >> '{log}'"],
            PowerOffCommand = ["/bin/sh", "-c", $"echo power-off >> '{log}'"],
        });
        return new HttpHeartbeatSink(options, new FixedCertificate(_client), TimeProvider.System, NullLogger<HttpHeartbeatSink>.Instance,
            new LocalActions(options, new CommandRunner(), NullLogger<LocalActions>.Instance));
    }

    [Theory]
    [InlineData("reboot", true, "reboot")]
    [InlineData("power-off", true, "power-off")]
    [InlineData("power-off", false, "")] // agent:allowActions false: ignored
    [InlineData("self-destruct", true, "")] // unknown: ignored
    [InlineData(null, true, "")]
    public async Task The_action_in_the_answer_is_carried_out_by_its_command(string? action, bool allow, string expected)
    {
        var answer = JsonSerializer.Serialize(new { serial = "SN-1", receivedAt = DateTimeOffset.UtcNow, state = "healthy", action });
        var server = await StandIn.StartAsync(_ca, HttpStatusCode.OK, answer);
        _servers.Add(server);
        var log = Path.Combine(_dir, "actions.log");
        using var sink = SinkWithActions(server.Url, log, allow);

        await sink.SendAsync(Heartbeat("SN-1"), CancellationToken.None);

        Assert.Single(server.Received);
        Assert.Equal(expected, File.Exists(log) ? (await File.ReadAllTextAsync(log)).Trim() : "");
    }

    [Fact]
    public async Task An_unreadable_answer_changes_nothing()
    {
        var server = await StandIn.StartAsync(_ca, HttpStatusCode.OK, "{not json");
        _servers.Add(server);
        var log = Path.Combine(_dir, "actions.log");
        using var sink = SinkWithActions(server.Url, log);

        await sink.SendAsync(Heartbeat("SN-1"), CancellationToken.None);

        Assert.Single(server.Received);
        Assert.False(File.Exists(log));
    }

    private HttpHeartbeatSink Sink(X509Certificate2? client, params string[] urls) => new(
        Options.Create(new AgentOptions
        {
            BootServers = urls,
            CaFile = Path.Combine(_dir, "ca.pem"),
            CriticalChecks = ["filesystem", "script:*"],
        }),
        new FixedCertificate(client),
        new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero)),
        NullLogger<HttpHeartbeatSink>.Instance);

    private static AgentHeartbeat Heartbeat(string serial) => new(
        new NodeFacts(new SystemFacts(null, null, serial, null, null, null, null, null, null), null, null, [], [], [], null, null, []),
        new HealthReport(DateTimeOffset.UnixEpoch, CheckStatus.Critical,
        [
            CheckResult.Critical("filesystem", "/var is read-only"),
            CheckResult.Ok("nic-link", "1 link up"),
            CheckResult.Warning("script:raid", "degraded"),
        ]));

    [Fact]
    public async Task Sends_the_documented_json_with_the_client_certificate()
    {
        var server = await StartAsync(HttpStatusCode.NoContent);
        using var sink = Sink(server.Url);

        await sink.SendAsync(Heartbeat("SN-1"), CancellationToken.None);

        var got = Assert.Single(server.Received);
        Assert.Equal(_client.Thumbprint, got.ClientCertificate);
        Assert.Equal("", got.Authorization); // no token: the certificate is the credential
        using var json = JsonDocument.Parse(got.Body);
        var root = json.RootElement;
        Assert.Equal("SN-1", root.GetProperty("serial").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero), root.GetProperty("timestamp").GetDateTimeOffset());
        var checks = root.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(["filesystem", "nic-link", "script:raid"], checks.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(["critical", "ok", "warning"], checks.Select(c => c.GetProperty("status").GetString()));
        Assert.Equal([true, false, true], checks.Select(c => c.GetProperty("critical").GetBoolean()));
        Assert.Equal("/var is read-only", checks[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_failing_or_dead_server_passes_the_heartbeat_to_the_next_which_is_then_tried_first()
    {
        var dead = $"https://127.0.0.1:{FreePort()}";
        var failing = await StartAsync(HttpStatusCode.ServiceUnavailable);
        var good = await StartAsync(HttpStatusCode.NoContent);
        using var sink = Sink(dead, failing.Url, good.Url);

        await sink.SendAsync(Heartbeat("SN-2"), CancellationToken.None);
        await sink.SendAsync(Heartbeat("SN-2"), CancellationToken.None);

        Assert.Single(failing.Received); // only the first heartbeat reached it
        Assert.Equal(2, good.Received.Count);
    }

    [Fact]
    public async Task A_refusal_is_the_same_answer_everywhere_and_is_not_repeated()
    {
        var refusing = await StartAsync(HttpStatusCode.NotFound);
        var other = await StartAsync(HttpStatusCode.NoContent);
        using var sink = Sink(refusing.Url, other.Url);

        await sink.SendAsync(Heartbeat("SN-unknown"), CancellationToken.None);

        Assert.Single(refusing.Received);
        Assert.Empty(other.Received);
    }

    [Fact]
    public async Task A_server_certificate_of_another_ca_is_refused()
    {
        using var otherCa = new TestCa("someone else's CA");
        var impostor = await StartAsync(HttpStatusCode.NoContent, otherCa);
        var good = await StartAsync(HttpStatusCode.NoContent);
        using var sink = Sink(impostor.Url, good.Url);

        await sink.SendAsync(Heartbeat("SN-3"), CancellationToken.None); // does not throw

        Assert.Empty(impostor.Received); // the TLS handshake failed: nothing was sent to it
        Assert.Single(good.Received);
    }

    [Fact]
    public async Task Without_a_client_certificate_or_a_serial_nothing_is_sent_and_nothing_throws()
    {
        var server = await StartAsync(HttpStatusCode.NoContent);
        using var noSerial = Sink(server.Url);
        await noSerial.SendAsync(Heartbeat(null!) with { Facts = null }, CancellationToken.None);

        using var noCertificate = Sink((X509Certificate2?)null, server.Url);
        await noCertificate.SendAsync(Heartbeat("SN-4"), CancellationToken.None);

        Assert.Empty(server.Received);
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A root CA and server certificates for 127.0.0.1 issued by it.</summary>
    private sealed class TestCa : IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public TestCa(string name)
        {
            var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        }

        public X509Certificate2 Certificate { get; }

        public X509Certificate2 IssueClient(string serial)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={serial}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            var serialNumber = RandomNumberGenerator.GetBytes(16);
            serialNumber[0] &= 0x7F;
            using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), serialNumber);
            using var withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public X509Certificate2 IssueServer()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), serial);
            using var withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }

    /// <summary>A Kestrel HTTPS server on loopback that records every heartbeat POST and answers one status.</summary>
    private sealed class StandIn : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private StandIn(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public List<(string? Authorization, string? ClientCertificate, string Body)> Received { get; } = [];

        public static async Task<StandIn> StartAsync(TestCa ca, HttpStatusCode status, string? answer = null)
        {
            var certificate = ca.IssueServer();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(h =>
            {
                h.ServerCertificate = certificate;
                h.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                h.AllowAnyClientCertificate();
            })));
            var app = builder.Build();
            StandIn? self = null;
            app.MapPost(HttpHeartbeatSink.Path, async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                lock (self!.Received)
                {
                    self.Received.Add((context.Request.Headers.Authorization.ToString(), context.Connection.ClientCertificate?.Thumbprint, body));
                }

                return answer is null ? Results.StatusCode((int)status) : Results.Content(answer, "application/json", statusCode: (int)status);
            });
            await app.StartAsync();
            var address = app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
            self = new StandIn(app, address);
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A certificate source that always gives the same certificate (or none), as an enrolled agent has.</summary>
internal sealed class FixedCertificate(X509Certificate2? certificate) : IClientCertificateSource
{
    public Task<X509Certificate2?> GetAsync(string serial, CancellationToken ct) => Task.FromResult(certificate);
}
