using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.NodeAgent.Actions;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Enrolment;

namespace NekkoMetal.NodeAgent.Heartbeat;

/// <summary>
/// Sends heartbeats to the boot servers' agent API (<c>POST {url}/api/v1/agent/heartbeat</c>): to the server that
/// answered last, else the next one in <see cref="AgentOptions.BootServers"/> order, moving on after a connection
/// error, a timeout or a 5xx (another boot server shares the same etcd); a 4xx is the same answer everywhere, so it is
/// logged and not repeated elsewhere. Never throws for a transport failure: the next interval tries again.
/// Credentials: the agent's client certificate (mTLS) from <see cref="IClientCertificateSource"/>, which enrols with
/// the bootstrap token or renews first when needed; without a certificate nothing is sent. HTTPS trusts
/// <see cref="AgentOptions.CaFile"/> only when it is set (the boot servers' CA bundle), else the system's roots.
/// </summary>
internal sealed partial class HttpHeartbeatSink : IHeartbeatSink, IDisposable
{
    public const string Path = "/api/v1/agent/heartbeat";

    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HttpHeartbeatSink> _logger;
    private readonly IClientCertificateSource _credentials;
    private readonly HashSet<string> _critical;
    private HttpClient? _http;
    private X509Certificate2? _httpCertificate;
    private int _preferred;
    private string? _serial;

    private readonly ILocalActions? _actions;

    public HttpHeartbeatSink(IOptions<AgentOptions> options, IClientCertificateSource credentials, TimeProvider time, ILogger<HttpHeartbeatSink> logger,
        ILocalActions? actions = null)
    {
        _actions = actions;
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _credentials = credentials;
        _time = time;
        _logger = logger;
        _critical = new HashSet<string>(_options.EffectiveCriticalChecks, StringComparer.Ordinal);
    }

    public async Task SendAsync(AgentHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var servers = _options.BootServers;
        _serial = _options.Serial ?? heartbeat.Facts?.System.Serial ?? _serial;
        if (servers.Count == 0 || _serial is null)
        {
            LogNotSent(_logger, servers.Count == 0 ? "no boot servers are configured (agent:bootServers)" : "the machine has no SMBIOS serial: set agent:serial");
            return;
        }

        var certificate = await _credentials.GetAsync(_serial, cancellationToken);
        if (certificate is null)
        {
            LogNotSent(_logger, "the agent has no client certificate yet (see the enrolment messages above)");
            return;
        }

        var http = Client(certificate);

        var body = new HeartbeatBody(_serial, _time.GetUtcNow(),
            [.. heartbeat.Health.Checks.Select(c => new HeartbeatCheck(c.Name, c.Status, c.Message, IsCritical(c.Name)))]);
        for (var tried = 0; tried < servers.Count; tried++)
        {
            var index = (_preferred + tried) % servers.Count;
            var url = servers[index].TrimEnd('/') + Path;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = JsonContent.Create(body, HeartbeatJson.Default.HeartbeatBody),
                };
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    if (index != _preferred)
                    {
                        LogSwitched(_logger, url);
                    }

                    _preferred = index;
                    await RunActionAsync(response, url, cancellationToken);
                    return;
                }

                var detail = await response.Content.ReadAsStringAsync(cancellationToken);
                if ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.RequestTimeout && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    LogRefused(_logger, url, (int)response.StatusCode, detail.Length > 512 ? detail[..512] : detail);
                    return;
                }

                LogServerFailed(_logger, url, $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogServerFailed(_logger, url, e.InnerException?.Message ?? e.Message);
            }
        }

        LogNoServer(_logger, servers.Count);
    }

    /// <summary>
    /// Carries out the action the answer holds, if any. The server hands an action out once: it is run even when the
    /// answer arrives late; a malformed answer is logged and changes nothing.
    /// </summary>
    private async Task RunActionAsync(HttpResponseMessage response, string url, CancellationToken cancellationToken)
    {
        HeartbeatAnswer? answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync(HeartbeatJson.Default.HeartbeatAnswer, cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or HttpRequestException)
        {
            LogBadAnswer(_logger, url, e.Message);
            return;
        }

        if (answer?.Action is { Length: > 0 } action && _actions is not null)
        {
            await _actions.RunAsync(action, cancellationToken);
        }
    }

    /// <summary>A check counts as critical when named in <see cref="AgentOptions.CriticalChecks"/>; "script:*" there marks every user script.</summary>
    private bool IsCritical(string name) =>
        _critical.Contains(name) || (name.StartsWith("script:", StringComparison.Ordinal) && _critical.Contains("script:*"));

    /// <summary>The client presenting <paramref name="certificate"/>; a new one (new connections) when the certificate changed.</summary>
    private HttpClient Client(X509Certificate2 certificate)
    {
        if (_http is null || !ReferenceEquals(certificate, _httpCertificate))
        {
            _http?.Dispose();
            _http = new HttpClient(AgentHttp.CreateHandler(_options.CaFile, certificate)) { Timeout = _options.HeartbeatTimeout };
            _httpCertificate = certificate;
        }

        return _http;
    }

    public void Dispose() => _http?.Dispose();

    [LoggerMessage(EventId = EventIds.HeartbeatNotSent, Level = LogLevel.Warning, Message = "Heartbeat not sent: {Reason}")]
    private static partial void LogNotSent(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.HeartbeatServerFailed, Level = LogLevel.Warning, Message = "Boot server {Url} did not take the heartbeat ({Reason}); trying the next one")]
    private static partial void LogServerFailed(ILogger logger, string url, string reason);

    [LoggerMessage(EventId = EventIds.HeartbeatRefused, Level = LogLevel.Error, Message = "Boot server {Url} refused the heartbeat with {Status}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string url, int status, string detail);

    [LoggerMessage(EventId = EventIds.HeartbeatNoServer, Level = LogLevel.Error, Message = "No boot server of {Count} took the heartbeat; the next interval tries again")]
    private static partial void LogNoServer(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.HeartbeatBadAnswer, Level = LogLevel.Warning, Message = "Boot server {Url} took the heartbeat but its answer was not readable: {Reason}")]
    private static partial void LogBadAnswer(ILogger logger, string url, string reason);

    [LoggerMessage(EventId = EventIds.HeartbeatServerSwitched, Level = LogLevel.Information, Message = "Heartbeats now go to {Url}")]
    private static partial void LogSwitched(ILogger logger, string url);
}
