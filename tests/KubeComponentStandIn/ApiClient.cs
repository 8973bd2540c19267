using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace NekkoMetal.KubeComponentStandIn;

/// <summary>
/// A client of the API server built from a kubeconfig, as client-go would use it: the server URL, the server's
/// certificate verified against the embedded CA <b>and</b> the URL's host (a missing SAN fails here as it would in a
/// real cluster), and the embedded client certificate presented for mutual TLS.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(KubeconfigFile kubeconfig)
    {
        Kubeconfig = kubeconfig;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [kubeconfig.Client],
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    cert is X509Certificate2 server
                    && (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) == 0
                    && Credentials.ChainError(server, kubeconfig.Ca, Credentials.ServerAuthOid) is null,
            },
            ConnectTimeout = TimeSpan.FromSeconds(3),
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri(kubeconfig.Server.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public KubeconfigFile Kubeconfig { get; }

    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        }

        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => _http.Dispose();
}
