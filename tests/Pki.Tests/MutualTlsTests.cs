using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Pki.Renewal;
using NekkoMetal.TestKit;

namespace NekkoMetal.Pki.Tests;

/// <summary>
/// The pieces the agent mTLS wiring will use, on a real SslStream over loopback: the server certificate from
/// <see cref="ServedCertificates"/>, client certificates from the agent CA checked with
/// <see cref="CertificateChecks.ValidateChain"/> and bound to a serial by <see cref="CertificateProfiles.TryGetMachineSerial"/>.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class MutualTlsTests(EtcdFixture etcd) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AgentCertificate_IsAccepted_AndNamesItsSerial_ACertificateFromAnotherCaIsRefused()
    {
        using var ca = new BuiltInCa(etcd.Endpoint, EtcdFixture.NewPrefix(), _dir.Path);
        using var served = new ServedCertificates(ca.Issuer,
            [new ServedCertificateRegistration("https", CaKind.BootServerHttps, () => new CertificateProfile
            {
                CommonName = "localhost",
                IpAddresses = [IPAddress.Loopback],
                Lifetime = TimeSpan.FromDays(1),
            })],
            TimeProvider.System, NullLogger<ServedCertificates>.Instance);
        await served.EnsureIssuedAsync(default);
        var agentRoot = (await ca.Issuer.GetCaChainAsync(CaKind.AgentClient, default)).Single();
        var httpsRoot = (await ca.Issuer.GetCaChainAsync(CaKind.BootServerHttps, default)).Single();

        using var agent = await ca.Issuer.IssueAsync(CaKind.AgentClient, CertificateProfiles.AgentClient("SN-A", TimeSpan.FromDays(1)), default);
        Assert.Equal("SN-A", await ConnectAsync(served, agentRoot, httpsRoot, agent.Certificate));

        // a client certificate from the HTTPS CA, even naming a serial, is not an agent certificate
        using var impostor = await ca.Issuer.IssueAsync(CaKind.BootServerHttps,
            CertificateProfiles.AgentClient("SN-A", TimeSpan.FromDays(1)) with { Usage = CertificateUsage.ServerAndClient }, default);
        Assert.Null(await ConnectAsync(served, agentRoot, httpsRoot, impostor.Certificate));
    }

    /// <summary>One TLS connection; returns the serial the server accepted, null when the handshake was refused.</summary>
    private static async Task<string?> ConnectAsync(ServedCertificates served, X509Certificate2 agentRoot, X509Certificate2 httpsRoot, X509Certificate2 clientCert)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        string? acceptedSerial = null;

        var serverTask = Task.Run(async () =>
        {
            using var tcp = await listener.AcceptTcpClientAsync();
            await using var ssl = new SslStream(tcp.GetStream());
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateSelectionCallback = served.SslStreamSelector("https"),
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, cert, _, _) =>
                        cert is X509Certificate2 c &&
                        CertificateChecks.ValidateChain(c, [agentRoot]).Count == 0 &&
                        CertificateChecks.ExtendedKeyUsages(c).Contains(CertificateChecks.ClientAuthOid) &&
                        CertificateProfiles.TryGetMachineSerial(c, out acceptedSerial),
                });
                await ssl.WriteAsync("ok"u8.ToArray());
                return true;
            }
            catch (AuthenticationException)
            {
                acceptedSerial = null;
                return false;
            }
            catch (IOException)
            {
                acceptedSerial = null;
                return false;
            }
        });

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var clientSsl = new SslStream(client.GetStream());
        try
        {
            await clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [clientCert],
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is X509Certificate2 c && CertificateChecks.ValidateChain(c, [httpsRoot]).Count == 0,
            });
            var buffer = new byte[2];
            await clientSsl.ReadExactlyAsync(buffer);
        }
        catch (AuthenticationException)
        {
        }
        catch (IOException)
        {
        }

        var accepted = await serverTask.WaitAsync(TimeSpan.FromSeconds(10));
        return accepted ? acceptedSerial : null;
    }
}
