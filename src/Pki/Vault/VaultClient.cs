using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace NekkoMetal.Pki.Vault;

/// <summary>What <c>auth/token/lookup-self</c> says about the current token.</summary>
public sealed record VaultTokenInfo(TimeSpan Ttl, bool Renewable, IReadOnlyList<string> Policies);

/// <summary>
/// A small typed client over Vault's HTTP API (<c>/v1/...</c>), for exactly what NekkoMetal calls: AppRole login,
/// token lookup-self and renew-self, and the PKI engine's issue, sign and ca_chain. It owns the token: logs in when
/// it has none, renews it at two thirds of its lease (<see cref="MaintainTokenAsync"/>), and when Vault answers 403
/// — which is also what an expired token gets — logs in again once and retries. Transient failures (no answer, 429,
/// 5xx other than sealed) are retried with exponential backoff; everything else surfaces at once as a typed
/// <see cref="VaultException"/>. Tokens and secret ids are never logged nor put in exception messages.
/// </summary>
public sealed partial class VaultClient : IDisposable
{
    private const int MaxErrorsKept = 5;
    private const int MaxErrorLength = 300;

    private readonly HttpClient _http;
    private readonly VaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<VaultClient> _logger;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private volatile TokenState? _token;

    public VaultClient(HttpClient http, VaultOptions options, TimeProvider time, ILogger<VaultClient> logger)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time;
        _logger = logger;
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new PkiConfigurationException("invalid Vault options: " + string.Join("; ", errors));
        }
    }

    /// <summary>Logins made so far (AppRole), for diagnostics and tests.</summary>
    public int LoginCount { get; private set; }

    /// <summary>
    /// Makes sure there is a token: AppRole logs in; token auth reads the token and looks it up (so a dead token is
    /// reported at start, and its TTL is known for renewal).
    /// </summary>
    public async Task EnsureAuthenticatedAsync(CancellationToken ct) => await CurrentTokenAsync(ct);

    /// <summary><c>GET auth/token/lookup-self</c>.</summary>
    public async Task<VaultTokenInfo> LookupSelfAsync(CancellationToken ct)
    {
        using var doc = await SendAsync(HttpMethod.Get, "auth/token/lookup-self", null, authenticated: true, ct);
        return ReadLookup(doc.RootElement, "GET auth/token/lookup-self");
    }

    /// <summary><c>POST auth/token/renew-self</c>; the lease starts again from now.</summary>
    public async Task RenewSelfAsync(CancellationToken ct)
    {
        var body = new JsonObject();
        if (_options.TokenRenewIncrement is { } inc)
        {
            body["increment"] = ((long)inc.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        }

        await CurrentTokenAsync(ct);
        var current = _token;
        using var doc = await SendAsync(HttpMethod.Post, "auth/token/renew-self", body, authenticated: true, ct, reauthenticate: false);
        var (token, lease, renewable) = ReadAuth(doc.RootElement, "POST auth/token/renew-self");
        await _authLock.WaitAsync(ct);
        try
        {
            if (ReferenceEquals(_token, current))
            {
                _token = new TokenState(token, _time.GetUtcNow(), lease, renewable);
            }
        }
        finally
        {
            _authLock.Release();
        }

        LogTokenRenewed((long)lease.TotalSeconds);
    }

    /// <summary>
    /// Renews the token once two thirds of its lease have passed; when it cannot be renewed (not renewable, past
    /// its max TTL, revoked) AppRole logs in again. Called by the renewal job; safe to call often.
    /// </summary>
    public async Task MaintainTokenAsync(CancellationToken ct)
    {
        var state = _token;
        if (state is null || state.Lease <= TimeSpan.Zero || _time.GetUtcNow() < state.ObtainedAt + (state.Lease * 2 / 3))
        {
            return;
        }

        if (state.Renewable)
        {
            try
            {
                await RenewSelfAsync(ct);
                return;
            }
            catch (VaultException e) when (!e.IsTransient && _options.Auth == VaultAuthMethod.AppRole)
            {
                LogTokenRenewFailed(e.Message);
            }
        }

        if (_options.Auth == VaultAuthMethod.AppRole)
        {
            await ReauthenticateAsync(state, ct);
        }
    }

    /// <summary><c>POST {mount}/issue/{role}</c>: Vault generates the key; returns the <c>data</c> object.</summary>
    public async Task<JsonDocument> IssueAsync(string mount, string role, JsonObject request, CancellationToken ct) =>
        await SendAsync(HttpMethod.Post, $"{mount}/issue/{role}", request, authenticated: true, ct);

    /// <summary><c>POST {mount}/sign/{role}</c> with a CSR; returns the whole answer.</summary>
    public async Task<JsonDocument> SignAsync(string mount, string role, JsonObject request, CancellationToken ct) =>
        await SendAsync(HttpMethod.Post, $"{mount}/sign/{role}", request, authenticated: true, ct);

    /// <summary><c>GET {mount}/cert/ca_chain</c>: the CA chain in PEM.</summary>
    public async Task<string> ReadCaChainPemAsync(string mount, CancellationToken ct)
    {
        var op = $"GET {mount}/cert/ca_chain";
        using var doc = await SendAsync(HttpMethod.Get, $"{mount}/cert/ca_chain", null, authenticated: true, ct);
        var data = Data(doc.RootElement, op);
        // Vault ≥ 1.10 answers data.ca_chain (array of PEM); data.certificate holds the chain as one PEM string.
        if (data.TryGetProperty("ca_chain", out var chain) && chain.ValueKind == JsonValueKind.Array && chain.GetArrayLength() > 0)
        {
            return string.Join("\n", chain.EnumerateArray().Select(e => e.GetString()));
        }

        if (data.TryGetProperty("ca_chain", out chain) && chain.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(chain.GetString()))
        {
            return chain.GetString()!;
        }

        return data.TryGetProperty("certificate", out var pem) && pem.ValueKind == JsonValueKind.String
            ? pem.GetString()!
            : throw new VaultProtocolException(op, "no ca_chain nor certificate in data");
    }

    internal static JsonElement Data(JsonElement root, string operation) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data
            : throw new VaultProtocolException(operation, "no data object");

    private async Task<string> CurrentTokenAsync(CancellationToken ct)
    {
        if (_token is { } t)
        {
            return t.Token;
        }

        await _authLock.WaitAsync(ct);
        try
        {
            _token ??= await AuthenticateAsync(ct);
            return _token.Token;
        }
        finally
        {
            _authLock.Release();
        }
    }

    /// <summary>Replaces <paramref name="stale"/> with a fresh token; false when no fresher token can be had.</summary>
    private async Task<bool> ReauthenticateAsync(TokenState stale, CancellationToken ct)
    {
        await _authLock.WaitAsync(ct);
        try
        {
            if (!ReferenceEquals(_token, stale) && _token is not null)
            {
                return true; // another call already logged in again
            }

            var fresh = await AuthenticateAsync(ct);
            if (fresh.Token == stale.Token)
            {
                return false; // a fixed token (or a token file not rewritten): nothing new to try
            }

            _token = fresh;
            LogRelogin(_options.Auth.ToString());
            return true;
        }
        finally
        {
            _authLock.Release();
        }
    }

    private async Task<TokenState> AuthenticateAsync(CancellationToken ct)
    {
        if (_options.Auth == VaultAuthMethod.AppRole)
        {
            var op = $"POST auth/{_options.AppRoleMount}/login";
            var body = new JsonObject { ["role_id"] = _options.RoleId, ["secret_id"] = ReadSecret(_options.SecretId, _options.SecretIdFile, "secret id") };
            using var doc = await SendAsync(HttpMethod.Post, $"auth/{_options.AppRoleMount}/login", body, authenticated: false, ct);
            var (token, lease, renewable) = ReadAuth(doc.RootElement, op);
            LoginCount++;
            LogLogin(_options.AppRoleMount, (long)lease.TotalSeconds, renewable);
            return new TokenState(token, _time.GetUtcNow(), lease, renewable);
        }

        var fixedToken = ReadSecret(_options.Token, _options.TokenFile, "token");
        using var lookup = await SendWithTokenAsync(HttpMethod.Get, "auth/token/lookup-self", null, fixedToken, ct);
        var info = ReadLookup(lookup.RootElement, "GET auth/token/lookup-self");
        return new TokenState(fixedToken, _time.GetUtcNow(), info.Ttl, info.Renewable);
    }

    private static string ReadSecret(string? value, string? file, string what)
    {
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }

        try
        {
            var text = File.ReadAllText(file!).Trim();
            return text.Length > 0 ? text : throw new PkiConfigurationException($"vault: the {what} file {file} is empty");
        }
        catch (IOException e)
        {
            throw new PkiConfigurationException($"vault: the {what} file {file} cannot be read: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PkiConfigurationException($"vault: the {what} file {file} cannot be read: {e.Message}");
        }
    }

    private async Task<JsonDocument> SendWithTokenAsync(HttpMethod method, string path, JsonObject? body, string token, CancellationToken ct)
    {
        var op = $"{method} {path}";
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            try
            {
                return await SendOnceAsync(method, path, body, token, op, ct);
            }
            catch (VaultUnavailableException e) when (attempt < _options.MaxAttempts)
            {
                reason = e.Message;
            }

            var delay = RetryDelay(attempt);
            LogRetry(op, attempt, (long)delay.TotalMilliseconds, reason);
            await Task.Delay(delay, _time, ct);
        }
    }

    /// <summary>
    /// One call with the retry policy: transient failures are retried with backoff; a 403 on an authenticated call
    /// gets one fresh login and one more try (an expired token looks exactly like a missing policy).
    /// </summary>
    internal async Task<JsonDocument> SendAsync(HttpMethod method, string path, JsonObject? body, bool authenticated, CancellationToken ct, bool reauthenticate = true)
    {
        if (!authenticated)
        {
            return await SendWithTokenAsync(method, path, body, token: "", ct);
        }

        var state = _token;
        if (state is null)
        {
            await CurrentTokenAsync(ct);
            state = _token!;
        }

        try
        {
            return await SendWithTokenAsync(method, path, body, state.Token, ct);
        }
        catch (VaultPermissionDeniedException) when (reauthenticate && CanReauthenticate)
        {
            if (!await ReauthenticateAsync(state, ct))
            {
                throw;
            }

            try
            {
                return await SendWithTokenAsync(method, path, body, _token!.Token, ct);
            }
            catch (VaultPermissionDeniedException again)
            {
                throw new VaultPermissionDeniedException(again.Operation, again.Errors,
                    $"also after authenticating again ({_options.Auth}): the token's policies lack this path");
            }
        }
    }

    private bool CanReauthenticate => _options.Auth == VaultAuthMethod.AppRole || !string.IsNullOrEmpty(_options.TokenFile);

    private async Task<JsonDocument> SendOnceAsync(HttpMethod method, string path, JsonObject? body, string token, string op, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(_options.Address, "v1/" + path));
        if (token.Length > 0)
        {
            request.Headers.Add("X-Vault-Token", token);
        }

        if (!string.IsNullOrEmpty(_options.Namespace))
        {
            request.Headers.Add("X-Vault-Namespace", _options.Namespace);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        HttpResponseMessage response;
        byte[] bytes;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            using (response)
            {
                bytes = await response.Content.ReadAsByteArrayAsync(linked.Token);
                if (response.IsSuccessStatusCode)
                {
                    if (response.StatusCode == HttpStatusCode.NoContent || bytes.Length == 0)
                    {
                        return JsonDocument.Parse("{}");
                    }

                    try
                    {
                        return JsonDocument.Parse(bytes);
                    }
                    catch (JsonException)
                    {
                        throw new VaultProtocolException(op, "the answer is not JSON");
                    }
                }

                throw Map(op, response.StatusCode, ReadErrors(bytes));
            }
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new VaultUnavailableException(op, null, [$"no answer within {_options.RequestTimeout.TotalSeconds:0.#} s"], e);
        }
        catch (HttpRequestException e)
        {
            throw new VaultUnavailableException(op, null, [e.Message], e);
        }
    }

    private static VaultException Map(string op, HttpStatusCode status, IReadOnlyList<string> errors) => status switch
    {
        HttpStatusCode.Forbidden => new VaultPermissionDeniedException(op, errors),
        HttpStatusCode.ServiceUnavailable when errors.Any(e => e.Contains("sealed", StringComparison.OrdinalIgnoreCase)) => new VaultSealedException(op, errors),
        HttpStatusCode.NotFound => new VaultNotFoundException(op, errors),
        HttpStatusCode.TooManyRequests or HttpStatusCode.PreconditionFailed => new VaultUnavailableException(op, status, errors),
        >= HttpStatusCode.InternalServerError => new VaultUnavailableException(op, status, errors),
        HttpStatusCode.BadRequest when errors.Any(e => e.Contains("unknown role", StringComparison.OrdinalIgnoreCase)) =>
            new VaultBadRequestException(op, status, errors, "the role does not exist on this mount: check the Vault options"),
        _ => new VaultBadRequestException(op, status, errors),
    };

    /// <summary>Vault's <c>{"errors":[...]}</c>, bounded; a body of another shape gives no messages.</summary>
    internal static IReadOnlyList<string> ReadErrors(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object &&
                doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                return [.. errors.EnumerateArray()
                    .Where(e => e.ValueKind == JsonValueKind.String)
                    .Take(MaxErrorsKept)
                    .Select(e => Clean(e.GetString()!))];
            }
        }
        catch (JsonException)
        {
        }

        return [];
    }

    private static string Clean(string s)
    {
        var one = string.Join(' ', s.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return one.Length > MaxErrorLength ? one[..MaxErrorLength] + "…" : one;
    }

    private TimeSpan RetryDelay(int attempt)
    {
        var factor = Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble());
        return TimeSpan.FromMilliseconds(Math.Min(_options.RetryBaseDelay.TotalMilliseconds * factor, 30_000));
    }

    private static (string Token, TimeSpan Lease, bool Renewable) ReadAuth(JsonElement root, string op)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("auth", out var auth) || auth.ValueKind != JsonValueKind.Object ||
            !auth.TryGetProperty("client_token", out var token) || token.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(token.GetString()))
        {
            throw new VaultProtocolException(op, "no auth.client_token");
        }

        var lease = auth.TryGetProperty("lease_duration", out var l) && l.TryGetInt64(out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
        var renewable = auth.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True;
        return (token.GetString()!, lease, renewable);
    }

    private static VaultTokenInfo ReadLookup(JsonElement root, string op)
    {
        var data = Data(root, op);
        var ttl = data.TryGetProperty("ttl", out var t) && t.TryGetInt64(out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
        var renewable = data.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True;
        IReadOnlyList<string> policies = data.TryGetProperty("policies", out var p) && p.ValueKind == JsonValueKind.Array
            ? [.. p.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];
        return new VaultTokenInfo(ttl, renewable, policies);
    }

    public void Dispose() => _authLock.Dispose();

    private sealed record TokenState(string Token, DateTimeOffset ObtainedAt, TimeSpan Lease, bool Renewable);

    [LoggerMessage(EventIds.VaultLogin, LogLevel.Information, "Logged in to Vault through AppRole at auth/{Mount} (lease {LeaseSeconds} s, renewable {Renewable})")]
    private partial void LogLogin(string mount, long leaseSeconds, bool renewable);

    [LoggerMessage(EventIds.VaultRelogin, LogLevel.Information, "Vault refused the token (expired or revoked); authenticated again ({Method})")]
    private partial void LogRelogin(string method);

    [LoggerMessage(EventIds.VaultRetry, LogLevel.Warning, "Vault {Operation} failed transiently (attempt {Attempt}); retrying in {DelayMs} ms: {Reason}")]
    private partial void LogRetry(string operation, int attempt, long delayMs, string reason);

    [LoggerMessage(EventIds.VaultTokenRenewed, LogLevel.Debug, "Renewed the Vault token (lease {LeaseSeconds} s)")]
    private partial void LogTokenRenewed(long leaseSeconds);

    [LoggerMessage(EventIds.VaultTokenRenewFailed, LogLevel.Warning, "Could not renew the Vault token; logging in again: {Reason}")]
    private partial void LogTokenRenewFailed(string reason);
}
