using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using NekkoMetal.BootServer.Agents;

using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// What a test does in an agent's place: a fresh ECDSA P-256 key and its CSR, enrolment with a bootstrap token,
/// renewal, the certificate with its key, and HTTPS handlers that present it (mTLS).
/// </summary>
internal static class AgentCredentialsKit
{
    /// <summary>A key and a PEM CSR asking for <paramref name="commonName"/> (the server ignores what it asks).</summary>
    public static (ECDsa Key, string Csr) NewCsr(string commonName = "whatever-the-csr-says")
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri("urn:nekkometal:machine:SN-SOMEONE-ELSE"));
        request.CertificateExtensions.Add(names.Build());
        return (key, request.CreateSigningRequestPem());
    }

    public static HttpRequestMessage EnrolRequest(string? token, string csr, string? serial = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, AgentApi.EnrolPath) { Content = JsonOf(new { serial, csr }) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>Enrols with <paramref name="token"/>; the certificate with the test's key, or a failed assertion with the body.</summary>
    public static async Task<X509Certificate2> EnrolAsync(HttpClient client, string token, string? serial = null)
    {
        var (key, csr) = NewCsr();
        using var request = EnrolRequest(token, csr, serial);
        var answer = await Expect(await client.SendAsync(request), HttpStatusCode.OK);
        return WithKey(answer, key);
    }

    /// <summary>Renews over <paramref name="mtls"/> (a client presenting the current certificate).</summary>
    public static async Task<X509Certificate2> RenewAsync(HttpClient mtls)
    {
        var (key, csr) = NewCsr();
        var answer = await Expect(await mtls.PostAsync(AgentApi.RenewPath, JsonOf(new { csr })), HttpStatusCode.OK);
        return WithKey(answer, key);
    }

    public static X509Certificate2 WithKey(JsonElement answer, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(answer.GetProperty("certificatePem").GetString());
        using var withKey = certificate.CopyWithPrivateKey(key);
        key.Dispose();

        // Through PKCS#12 so the key is not ephemeral (SslStream can present it on every platform).
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A handler trusting only DATA_DIR/ca.pem and presenting <paramref name="clientCertificate"/> when the server asks.</summary>
    public static SocketsHttpHandler MtlsHandler(string dataDir, X509Certificate2? clientCertificate)
    {
        var handler = TestKit.BootServerTrust.Handler(dataDir);
        if (clientCertificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return handler;
    }

    /// <summary>A heartbeat body for <paramref name="serial"/> with one passing critical check.</summary>
    public static StringContent Beat(string serial) => JsonOf(new
    {
        serial,
        timestamp = DateTimeOffset.UtcNow,
        checks = new[] { new { name = "filesystem", status = "ok", message = "fine", critical = true } },
    });
}
