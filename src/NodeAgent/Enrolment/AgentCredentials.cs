using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Agent;

namespace NekkoMetal.NodeAgent.Enrolment;

/// <summary>Where the heartbeat client gets the agent's client certificate (with its private key) from.</summary>
internal interface IClientCertificateSource
{
    /// <summary>
    /// The current certificate for <paramref name="serial"/>, enrolling or renewing first when needed; null when the
    /// agent has none and could not get one (the reason is logged; the next interval tries again). Never throws for
    /// a transport failure.
    /// </summary>
    Task<X509Certificate2?> GetAsync(string serial, CancellationToken ct);
}

/// <summary>
/// The agent's identity: an ECDSA P-256 key generated on the node (it never leaves it) and the client certificate the
/// boot servers' agent CA signed for it, bound to the machine serial. Kept in <c>{stateDirectory}/agent.pem</c>
/// (certificate, intermediates and the PKCS#8 key in one file, mode 0600, replaced by rename so a crash never leaves a
/// key beside a certificate of another key).
/// <list type="bullet">
/// <item>No usable certificate (none, unreadable, expired, or for another serial): <b>enrol</b> —
/// <c>POST /api/v1/agent/enrol</c> with the single-use bootstrap token of <see cref="AgentOptions.TokenFile"/> as Bearer
/// and a CSR of a fresh key.</item>
/// <item>Past two thirds of its lifetime: <b>renew</b> — <c>POST /api/v1/agent/renew</c> over mTLS with the current
/// certificate and a CSR of a fresh key (no token needed). A failed renewal keeps the current certificate in use and is
/// tried again on the next call.</item>
/// </list>
/// Boot servers are tried in <see cref="AgentOptions.BootServers"/> order, moving on after a connection error, a
/// timeout or a 5xx; HTTPS trusts <see cref="AgentOptions.CaFile"/> only. The token and the key are never logged.
/// </summary>
internal sealed partial class AgentCredentials : IClientCertificateSource, IDisposable
{
    public const string FileName = "agent.pem";
    public const string EnrolPath = "/api/v1/agent/enrol";
    public const string RenewPath = "/api/v1/agent/renew";

    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AgentCredentials> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private X509Certificate2? _current;
    private bool _loaded;

    public AgentCredentials(IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentCredentials> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary><c>{stateDirectory}/agent.pem</c>.</summary>
    public string PemPath => Path.Combine(_options.StateDirectory, FileName);

    public async Task<X509Certificate2?> GetAsync(string serial, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!_loaded)
            {
                _current = Load();
                _loaded = true;
            }

            var now = _time.GetUtcNow();
            if (_current is not null && !IsUsable(_current, serial, now))
            {
                LogUnusable(_logger, _current.SerialNumber, _current.NotAfter.ToUniversalTime());
                _current = null;
            }

            if (_current is null)
            {
                _current = await ObtainAsync(serial, renewWith: null, ct);
                return _current;
            }

            if (now >= RenewalDue(_current))
            {
                // The replaced certificate is left to the GC: a pooled connection may still present it.
                _current = await ObtainAsync(serial, renewWith: _current, ct) ?? _current;
            }

            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Two thirds into the certificate's validity.</summary>
    public static DateTimeOffset RenewalDue(X509Certificate2 certificate)
    {
        var from = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var to = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return from + ((to - from) * 2 / 3);
    }

    private static bool IsUsable(X509Certificate2 certificate, string serial, DateTimeOffset now) =>
        certificate.NotAfter.ToUniversalTime() > now.UtcDateTime
        && string.Equals(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), serial, StringComparison.Ordinal);

    private X509Certificate2? Load()
    {
        if (!File.Exists(PemPath))
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(PemPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            LogUnreadable(_logger, PemPath, e.Message);
            return null;
        }
    }

    /// <summary>Enrols (no current certificate) or renews, trying each boot server; the new certificate, or null.</summary>
    private async Task<X509Certificate2?> ObtainAsync(string serial, X509Certificate2? renewWith, CancellationToken ct)
    {
        string? token = null;
        if (renewWith is null)
        {
            try
            {
                token = (await File.ReadAllTextAsync(_options.TokenFile, ct)).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNoCredentials(_logger, $"no valid client certificate in {PemPath} and the bootstrap token file {_options.TokenFile} cannot be read ({e.GetType().Name})");
                return null;
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(serial);
        var csr = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var body = new CertificateRequestBody(serial, csr);
        var what = renewWith is null ? "enrolment" : "renewal";

        using var http = new HttpClient(AgentHttp.CreateHandler(_options.CaFile, renewWith)) { Timeout = _options.HeartbeatTimeout };
        foreach (var server in _options.BootServers)
        {
            var url = server.TrimEnd('/') + (renewWith is null ? EnrolPath : RenewPath);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body, EnrolmentJson.Default.CertificateRequestBody) };
                if (token is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                using var response = await http.SendAsync(request, ct);
                if (response.IsSuccessStatusCode)
                {
                    var answer = await response.Content.ReadFromJsonAsync(EnrolmentJson.Default.CertificateResponseBody, ct)
                        ?? throw new InvalidDataException("empty answer");
                    var certificate = Store(answer, key);
                    LogObtained(_logger, what, url, certificate.SerialNumber, certificate.NotAfter.ToUniversalTime());
                    return certificate;
                }

                var detail = await response.Content.ReadAsStringAsync(ct);
                detail = detail.Length > 512 ? detail[..512] : detail;
                if ((int)response.StatusCode < 500 && response.StatusCode is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests)
                {
                    LogRefused(_logger, what, url, (int)response.StatusCode, detail); // the same answer from every server
                    return null;
                }

                LogServerFailed(_logger, what, url, $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                LogServerFailed(_logger, what, url, e.InnerException?.Message ?? e.Message);
            }
            catch (Exception e) when (e is CryptographicException or InvalidDataException or System.Text.Json.JsonException or IOException)
            {
                LogBadAnswer(_logger, what, url, e.Message);
            }
        }

        return null;
    }

    /// <summary>Checks the answer is a certificate for our key, writes certificate + key (mode 0600, by rename), loads it back.</summary>
    private X509Certificate2 Store(CertificateResponseBody answer, ECDsa key)
    {
        using (var issued = X509Certificate2.CreateFromPem(answer.CertificatePem))
        {
            using var issuedKey = issued.GetECDsaPublicKey() ?? throw new InvalidDataException("the certificate is not for an ECDSA key");
            if (!issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new InvalidDataException("the certificate is not for the key of the request");
            }
        }

        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the agent runs on Linux");
        }

        Directory.CreateDirectory(_options.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = PemPath + ".new";
        File.Delete(temp);
        using (var file = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(answer.CertificatePem.TrimEnd() + "\n");
            writer.Write(key.ExportPkcs8PrivateKeyPem() + "\n");
        }

        File.Move(temp, PemPath, overwrite: true);
        return X509Certificate2.CreateFromPemFile(PemPath);
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(EventId = EventIds.CredentialsObtained, Level = LogLevel.Information, Message = "Agent certificate {What} at {Url}: certificate {CertificateSerial} valid until {NotAfter:O}")]
    private static partial void LogObtained(ILogger logger, string what, string url, string certificateSerial, DateTime notAfter);

    [LoggerMessage(EventId = EventIds.CredentialsRefused, Level = LogLevel.Error, Message = "Boot server {Url} refused the agent certificate {What} with {Status}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string what, string url, int status, string detail);

    [LoggerMessage(EventId = EventIds.CredentialsServerFailed, Level = LogLevel.Warning, Message = "Boot server {Url} did not answer the agent certificate {What} ({Reason}); trying the next one")]
    private static partial void LogServerFailed(ILogger logger, string what, string url, string reason);

    [LoggerMessage(EventId = EventIds.CredentialsBadAnswer, Level = LogLevel.Error, Message = "Boot server {Url} answered the agent certificate {What} with something unusable: {Reason}")]
    private static partial void LogBadAnswer(ILogger logger, string what, string url, string reason);

    [LoggerMessage(EventId = EventIds.CredentialsMissing, Level = LogLevel.Warning, Message = "No client certificate: {Reason}")]
    private static partial void LogNoCredentials(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.CredentialsUnreadable, Level = LogLevel.Warning, Message = "The agent certificate file {Path} cannot be used: {Reason}; enrolling again")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = EventIds.CredentialsUnusable, Level = LogLevel.Warning, Message = "The agent certificate {CertificateSerial} (valid until {NotAfter:O}) is expired or for another serial; enrolling again")]
    private static partial void LogUnusable(ILogger logger, string certificateSerial, DateTime notAfter);
}
