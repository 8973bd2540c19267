using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NekkoMetal.AgentLoad;

/// <summary>
/// One simulated agent: its machine serial, the client certificate it enrolled for (with its ECDSA P-256 key) and
/// its own HTTP client presenting that certificate, kept alive between heartbeats like nekko-agent's
/// (<c>src/NodeAgent/Enrolment/AgentHttp.cs</c>: one SocketsHttpHandler per certificate, connections recycled every
/// 5 minutes).
/// </summary>
internal sealed class SimulatedAgent : IDisposable
{
    private SimulatedAgent(string serial, X509Certificate2 certificate, HttpClient http)
    {
        Serial = serial;
        Certificate = certificate;
        Http = http;
    }

    public string Serial { get; }

    public X509Certificate2 Certificate { get; }

    public HttpClient Http { get; }

    public static SimulatedAgent Create(string serial, X509Certificate2 certificate, RemoteCertificateValidationCallback trust) =>
        new(serial, certificate, new HttpClient(Handler(trust, certificate)) { Timeout = TimeSpan.FromSeconds(10) });

    /// <summary>A handler trusting only the boot servers' CA (<paramref name="trust"/>), presenting <paramref name="certificate"/> when given.</summary>
    public static SocketsHttpHandler Handler(RemoteCertificateValidationCallback trust, X509Certificate2? certificate)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = trust };
        if (certificate is not null)
        {
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        return new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), SslOptions = ssl };
    }

    /// <summary>A fresh ECDSA P-256 key and the PEM PKCS#10 request nekko-agent sends for it (CN = serial, SHA-256).</summary>
    public static (ECDsa Key, string Csr) NewRequest(string serial)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(serial);
        return (key, new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
    }

    /// <summary>The certificate of the enrolment answer (its first PEM block) joined to the key of the request.</summary>
    public static X509Certificate2 WithKey(string certificatePem, ECDsa key)
    {
        using var issued = X509Certificate2.CreateFromPem(certificatePem);
        using var issuedKey = issued.GetECDsaPublicKey() ?? throw new InvalidDataException("the certificate is not for an ECDSA key");
        if (!issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new InvalidDataException("the certificate is not for the key of the request");
        }

        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// The body the agent sends (src/NodeAgent/Heartbeat/HeartbeatWire.cs): serial, timestamp and the checks an idle
    /// node reports — the nine built-in checks with messages of their usual length, all ok, the agent's default
    /// critical ones marked.
    /// </summary>
    public byte[] HeartbeatBody(DateTimeOffset now)
    {
        var json = new StringBuilder(1200);
        json.Append("{\"serial\":\"").Append(Serial).Append("\",\"timestamp\":\"")
            .Append(now.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)).Append("\",\"checks\":")
            .Append(Checks).Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private const string Checks = """
        [{"name":"filesystem","status":"ok","message":"3 filesystems writable; least free: / 41.2% (inodes 88.0%)","critical":true},
        {"name":"memory-pressure","status":"ok","message":"some avg60 0.00%, full avg60 0.00%","critical":false},
        {"name":"disk-kernel-log","status":"ok","message":"no disk errors in the kernel log of the last 24h","critical":true},
        {"name":"disk-smart","status":"ok","message":"2 disks passed SMART (nvme0n1, sda)","critical":true},
        {"name":"nic-link","status":"ok","message":"1 watched link up: enp1s0 1000 Mb/s","critical":false},
        {"name":"cpu-temperature","status":"ok","message":"x86_pkg_temp 46.0 °C (warning at 85 °C)","critical":false},
        {"name":"power","status":"ok","message":"no battery; on mains","critical":false},
        {"name":"systemd-units","status":"ok","message":"no failed units","critical":false},
        {"name":"kubelet","status":"ok","message":"200 ok from http://127.0.0.1:10248/healthz","critical":true}]
        """;

    public void Dispose()
    {
        Http.Dispose();
        Certificate.Dispose();
    }
}
