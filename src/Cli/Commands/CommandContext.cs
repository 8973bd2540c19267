using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Api;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Commands;

/// <summary>What one running command needs: parsed values, writers, the output format and, on first use, the API client.</summary>
internal sealed class CommandContext : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly GlobalOptions _options;
    private HttpClient? _http;
    private AdminApiClient? _api;

    public CommandContext(ParseResult parseResult, GlobalOptions options, CliEnvironment environment)
    {
        ParseResult = parseResult;
        _options = options;
        Environment = environment;
        Format = parseResult.GetValue(options.Output) == "json" ? OutputFormat.Json : OutputFormat.Table;
    }

    public ParseResult ParseResult { get; }

    public CliEnvironment Environment { get; }

    public OutputFormat Format { get; }

    public TextWriter Stdout => Environment.Stdout;

    public TextWriter Stderr => Environment.Stderr;

    /// <summary>
    /// The API client. Resolving it reads the token, so commands check their own input first:
    /// a usage error never waits on, or is hidden by, a missing token.
    /// </summary>
    public AdminApiClient Api => _api ??= CreateApi();

    public T? Get<T>(Option<T> option) => ParseResult.GetValue(option);

    public T? Get<T>(Argument<T> argument) => ParseResult.GetValue(argument);

    /// <summary>Writes a response: as JSON with <c>-o json</c>, otherwise through <paramref name="table"/>.</summary>
    public void Write(JsonNode? response, Action<TextWriter, JsonNode?> table)
    {
        if (Format == OutputFormat.Json)
        {
            JsonOutput.Write(Stdout, response);
        }
        else
        {
            table(Stdout, response);
        }
    }

    /// <summary>
    /// Reads <c>-f FILE</c> (<c>-</c> for stdin) and checks it is JSON whose root is one of <paramref name="roots"/>.
    /// Returns the text unchanged, to be sent as is.
    /// </summary>
    public async Task<string> ReadJsonFileAsync(string path, JsonValueKind[] roots, CancellationToken cancellationToken)
    {
        var name = path == "-" ? "standard input" : path;
        string text;
        try
        {
            text = path == "-"
                ? await Environment.OpenStdin().ReadToEndAsync(cancellationToken)
                : await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot read {name}: {ex.Message}", ex);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (!roots.Contains(document.RootElement.ValueKind))
            {
                var expected = string.Join(" or ", roots.Select(kind => kind == JsonValueKind.Array ? "an array" : "an object"));
                throw new CliUsageException($"{name} must hold {expected}, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{name} is not valid JSON: {ex.Message}", ex);
        }

        return text;
    }

    public void Dispose() => _http?.Dispose();

    /// <summary>The CA the server's certificate must chain to; null with a test handler.</summary>
    public ServerTrust? Trust { get; private set; }

    /// <summary>
    /// An HTTP client to the boot server: the test handler when one is given, else sockets trusting the CA of
    /// <c>--ca-file</c> / NEKKO_CA_FILE / <c>&lt;data dir&gt;/ca.pem</c> (<see cref="ServerTrust"/>).
    /// </summary>
    public HttpClient CreateHttpClient(TimeSpan timeout)
    {
        HttpClient http;
        if (Environment.Handler is { } handler)
        {
            http = new HttpClient(handler, disposeHandler: false);
        }
        else
        {
            Trust ??= ResolveTrust();
            var sockets = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout };
            Trust.Configure(sockets);
            http = new HttpClient(sockets, disposeHandler: true);
        }

        http.Timeout = timeout;
        http.DefaultRequestHeaders.UserAgent.ParseAdd("nekkoctl");
        return http;
    }

    private ServerTrust ResolveTrust()
    {
        if (ParseResult.GetValue(_options.CaFile) is { Length: > 0 } flag)
        {
            return ServerTrust.Load(flag, explicitlyNamed: true);
        }

        if (Environment.GetVariable("NEKKO_CA_FILE") is { } env)
        {
            return ServerTrust.Load(env, explicitlyNamed: true);
        }

        var dataDir = ParseResult.GetValue(_options.DataDir) ?? Environment.GetVariable("NEKKO_DATA_DIR") ?? GlobalOptions.DefaultDataDir;
        return ServerTrust.Load(Path.Combine(dataDir, GlobalOptions.CaFileName), explicitlyNamed: false);
    }

    private AdminApiClient CreateApi()
    {
        var settings = ConnectionSettings.Resolve(ParseResult, _options, Environment);
        _http = CreateHttpClient(RequestTimeout);
        return new AdminApiClient(_http, settings.Server, settings.Token, settings.TokenSource, Trust);
    }
}
