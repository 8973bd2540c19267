using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// A whole boot server in process on real Kestrel sockets — the plain-HTTP listener and the HTTPS listener with its
/// certificate from the built-in CA and client certificates asked for — wired exactly as Program does
/// (<c>AddBootServer</c>, <c>MapBootServer</c>), against a real etcd. Every log message of every category, down to
/// Debug, is captured with its structured state and scopes (<see cref="CapturedLogs"/>).
/// </summary>
internal sealed class KestrelBootServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelBootServer(WebApplication app, string dataDir, string httpUrl, string httpsUrl, CapturedLogs logs)
    {
        _app = app;
        DataDir = dataDir;
        HttpUrl = httpUrl;
        HttpsUrl = httpsUrl;
        Logs = logs;
    }

    public string DataDir { get; }

    public string HttpUrl { get; }

    public string HttpsUrl { get; }

    public CapturedLogs Logs { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<KestrelBootServer> StartAsync(string etcdEndpoint, string prefix, IDictionary<string, string?>? extra = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("nekko-bs-mtls-").FullName;
        TestKit.BootServerTrust.WriteSharedKek(dataDir, prefix);
        var httpUrl = $"http://127.0.0.1:{TestKit.EtcdServer.FreePort()}";
        var httpsUrl = $"https://127.0.0.1:{TestKit.EtcdServer.FreePort()}";
        var settings = new Dictionary<string, string?>
        {
            ["etcdEndpoints"] = etcdEndpoint,
            ["etcdPrefix"] = prefix,
            ["dataDir"] = dataDir,
            ["httpUrl"] = httpUrl,
            ["httpsUrl"] = httpsUrl,
            ["tftpPort"] = "0",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.AddBootServer();

        // After AddBootServer's filters (Microsoft.AspNetCore at Warning, …): this provider's own rule wins, so the
        // capture sees everything from Debug up, including the framework's request logs.
        builder.Logging.AddFilter<CapturedLogs>(null, LogLevel.Debug);
        var app = builder.Build();
        app.MapBootServer();
        await app.StartAsync();
        return new KestrelBootServer(app, dataDir, httpUrl, httpsUrl, logs);
    }

    /// <summary>The admin token the server wrote on first start.</summary>
    public async Task<string> AdminTokenAsync()
    {
        var file = Path.Combine(DataDir, "admin.token");
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(file))
        {
            Assert.True(DateTime.UtcNow < until, "no admin token after 30 s");
            await Task.Delay(50);
        }

        return (await File.ReadAllTextAsync(file)).Trim();
    }

    /// <summary>An HTTPS client trusting only DATA_DIR/ca.pem, presenting <paramref name="clientCertificate"/> when given.</summary>
    public HttpClient Client(string? token = null, X509Certificate2? clientCertificate = null)
    {
        var c = new HttpClient(AgentCredentialsKit.MtlsHandler(DataDir, clientCertificate)) { BaseAddress = new Uri(HttpsUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return c;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Records every log entry: category, level, event, the formatted message, every structured value of the state and of
/// every enclosing scope (rendered with <c>ToString()</c>), and the exception with its inner ones.
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    /// <summary>The entries that contain <paramref name="secret"/> (ordinal).</summary>
    public IReadOnlyList<string> Containing(string secret) => [.. _entries.Where(e => e.Contains(secret, StringComparison.Ordinal))];

    private static void Append(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case string s:
                text.Append(' ').Append(s);
                return;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach (var (k, v) in pairs)
                {
                    text.Append(' ').Append(k).Append('=');
                    Append(text, v);
                }

                return;
            case System.Collections.IEnumerable items:
                foreach (var item in items)
                {
                    Append(text, item);
                }

                return;
            default:
                text.Append(' ').Append(value);
                return;
        }
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder();
            text.Append(category).Append(' ').Append(logLevel).Append(' ').Append(eventId.Id).Append(' ').Append(formatter(state, exception)).Append(" | state:");
            Append(text, state);
            text.Append(" | scopes:");
            owner._scopes.ForEachScope((scope, sb) => Append(sb, scope), text);
            for (var e = exception; e is not null; e = e.InnerException)
            {
                text.Append(" | exception: ").Append(e);
            }

            owner._entries.Enqueue(text.ToString());
        }
    }
}
