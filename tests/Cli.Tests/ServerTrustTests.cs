using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NekkoMetal.Cli.Tests;

/// <summary>
/// nekkoctl's trust of the boot server's HTTPS over real TLS on loopback: a tiny server (SslStream, one canned
/// HTTP answer) presents a certificate issued by a test CA. nekkoctl accepts it only when the CA file it is given
/// holds that CA and the certificate names the host; otherwise it stops at the handshake with a message that says why.
/// </summary>
public sealed class ServerTrustTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nekkoctl-trust-").FullName;

    [Fact]
    public async Task TrustedCa_TheRequestGoesThrough()
    {
        using var ca = TestCa.Create("Boot server CA");
        await using var server = await TlsServer.StartAsync(ca.Issue("bs1", IPAddress.Loopback));
        var caFile = ca.WritePem(_dir, "ca.pem");

        var (code, stdout, stderr) = await RunAsync(server.Url, "--ca-file", caFile, "machines", "list");

        Assert.True(code == 0, stderr);
        Assert.Contains("SERIAL", stdout, StringComparison.Ordinal);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task CaFromTheDataDirectory_IsTheDefault()
    {
        using var ca = TestCa.Create("Boot server CA");
        await using var server = await TlsServer.StartAsync(ca.Issue("bs1", IPAddress.Loopback));
        ca.WritePem(_dir, "ca.pem");

        var (code, _, stderr) = await RunAsync(server.Url, "--data-dir", _dir, "machines", "list");

        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task AnotherCa_IsRefused_WithAClearMessage_AndNothingIsSent()
    {
        using var ca = TestCa.Create("Boot server CA");
        using var other = TestCa.Create("Someone else's CA");
        await using var server = await TlsServer.StartAsync(other.Issue("bs1", IPAddress.Loopback));
        var caFile = ca.WritePem(_dir, "ca.pem");

        var (code, stdout, stderr) = await RunAsync(server.Url, "--ca-file", caFile, "machines", "list");

        Assert.Equal(3, code);
        Assert.Empty(stdout);
        Assert.Contains("certificate is not trusted", stderr, StringComparison.Ordinal);
        Assert.Contains("does not chain to the CA in " + caFile, stderr, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task ACertificateForAnotherHost_IsRefused()
    {
        using var ca = TestCa.Create("Boot server CA");
        await using var server = await TlsServer.StartAsync(ca.Issue("elsewhere", IPAddress.Parse("10.9.9.9")));
        var caFile = ca.WritePem(_dir, "ca.pem");

        var (code, _, stderr) = await RunAsync(server.Url, "--ca-file", caFile, "machines", "list");

        Assert.Equal(3, code);
        Assert.Contains("the certificate is for other names", stderr, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task ANamedCaFileThatDoesNotExist_IsAUsageError()
    {
        var (code, _, stderr) = await RunAsync("https://127.0.0.1:1", "--ca-file", Path.Combine(_dir, "missing.pem"), "machines", "list");

        Assert.Equal(2, code);
        Assert.Contains("missing.pem does not exist", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string server, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var env = new Dictionary<string, string?> { ["NEKKO_SERVER"] = server, ["NEKKO_TOKEN"] = "t0ken" };
        var code = await CliApp.RunAsync(args, handler: null, stdout, stderr, env);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A self-signed ECDSA root that issues server certificates.</summary>
    private sealed class TestCa : IDisposable
    {
        private TestCa(X509Certificate2 root) => Root = root;

        public X509Certificate2 Root { get; }

        public static TestCa Create(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            return new TestCa(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)));
        }

        public X509Certificate2 Issue(string dnsName, IPAddress address)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(dnsName);
            san.AddIpAddress(address);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f;
            using var cert = request.Create(Root, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), serial);
            using var withKey = cert.CopyWithPrivateKey(key);
            // a PKCS#12 round trip: SslStream on Linux wants a certificate whose key it can use for the handshake
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public string WritePem(string dir, string name)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, Root.ExportCertificatePem() + "\n");
            return path;
        }

        public void Dispose() => Root.Dispose();
    }

    /// <summary>Accepts TLS connections on loopback and answers every request with an empty JSON array.</summary>
    private sealed class TlsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly X509Certificate2 _certificate;
        private readonly Task _loop;
        private int _requests;

        private TlsServer(TcpListener listener, X509Certificate2 certificate)
        {
            _listener = listener;
            _certificate = certificate;
            _loop = Task.Run(AcceptLoopAsync);
        }

        public string Url => $"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public int Requests => Volatile.Read(ref _requests);

        public static Task<TlsServer> StartAsync(X509Certificate2 certificate)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new TlsServer(listener, certificate));
        }

        private async Task AcceptLoopAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await using var tls = new SslStream(client.GetStream());
                            await tls.AuthenticateAsServerAsync(_certificate);
                            var buffer = new byte[8192];
                            var head = new StringBuilder();
                            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                            {
                                var n = await tls.ReadAsync(buffer);
                                if (n == 0)
                                {
                                    return;
                                }

                                head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                            }

                            Interlocked.Increment(ref _requests);
                            await tls.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"));
                        }
                        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                        {
                            // the client refused our certificate: that is what some tests want
                        }
                    }
                });
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
            _certificate.Dispose();
        }
    }
}
