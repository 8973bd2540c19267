using System.CommandLine;

namespace NekkoMetal.Cli.Commands;

/// <summary>Where to send requests and which token to send, resolved from options, environment and the token file.</summary>
/// <param name="Server">The boot server's base URL.</param>
/// <param name="Token">The bearer token.</param>
/// <param name="TokenSource">Where the token came from, for error hints ("--token", "NEKKO_TOKEN", "token file /x").</param>
internal sealed record ConnectionSettings(Uri Server, string Token, string TokenSource)
{
    /// <summary>
    /// Server: <c>--server</c>, NEKKO_SERVER, default. Token: <c>--token</c>, then <c>--token-file</c> when given
    /// on the command line, then NEKKO_TOKEN, then the file named by NEKKO_TOKEN_FILE or
    /// <c>&lt;data dir&gt;/admin.token</c>. A flag always beats the environment, so
    /// <c>--token-file viewer.token</c> is not silently overridden by an exported NEKKO_TOKEN.
    /// </summary>
    public static ConnectionSettings Resolve(ParseResult parseResult, GlobalOptions options, CliEnvironment environment)
    {
        var server = ParseServer(parseResult.GetValue(options.Server) ?? environment.GetVariable("NEKKO_SERVER") ?? GlobalOptions.DefaultServer);

        if (parseResult.GetValue(options.Token) is { Length: > 0 } flagToken)
        {
            return new ConnectionSettings(server, CheckToken(flagToken, "--token"), "--token");
        }

        var flagFile = parseResult.GetValue(options.TokenFile);
        if (flagFile is null && environment.GetVariable("NEKKO_TOKEN") is { } envToken)
        {
            return new ConnectionSettings(server, CheckToken(envToken, "NEKKO_TOKEN"), "NEKKO_TOKEN");
        }

        var path = flagFile
            ?? environment.GetVariable("NEKKO_TOKEN_FILE")
            ?? Path.Combine(
                parseResult.GetValue(options.DataDir) ?? environment.GetVariable("NEKKO_DATA_DIR") ?? GlobalOptions.DefaultDataDir,
                GlobalOptions.TokenFileName);
        var source = $"token file {path}";
        return new ConnectionSettings(server, CheckToken(ReadTokenFile(path), source), source);
    }

    private static Uri ParseServer(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var server)
            || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps)
            || server.Query.Length > 0
            || server.Fragment.Length > 0)
        {
            throw new CliUsageException($"invalid server URL \"{text}\": expected http://HOST:PORT or https://HOST:PORT");
        }

        return server;
    }

    private static string ReadTokenFile(string path)
    {
        const string Fix = "pass --token TOKEN or set NEKKO_TOKEN, or point --token-file (NEKKO_TOKEN_FILE) " +
            "or --data-dir (NEKKO_DATA_DIR) at the admin.token the boot server wrote";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliUsageException($"no admin token: token file {path} does not exist; {Fix}", ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new CliUsageException($"no admin token: cannot read token file {path} ({ex.Message}); {Fix}", ex);
        }

        var token = text.Trim();
        return token.Length > 0 ? token : throw new CliUsageException($"no admin token: token file {path} is empty; {Fix}");
    }

    private static string CheckToken(string token, string source) =>
        token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? throw new CliUsageException($"the token from {source} contains white space or control characters")
            : token;
}
