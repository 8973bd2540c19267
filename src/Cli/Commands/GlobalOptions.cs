using System.CommandLine;

namespace NekkoMetal.Cli.Commands;

/// <summary>The options every command takes (recursive on the root command).</summary>
internal sealed class GlobalOptions
{
    public const string DefaultServer = "https://127.0.0.1:8443";
    public const string DefaultDataDir = "/var/lib/nekkometal";
    public const string TokenFileName = "admin.token";
    public const string CaFileName = "ca.pem";

    public Option<string> Server { get; } = new("--server")
    {
        Description = $"Boot server URL [env NEKKO_SERVER; default {DefaultServer}]",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = "Admin API bearer token [env NEKKO_TOKEN]",
        HelpName = "TOKEN",
        Recursive = true,
    };

    public Option<string> TokenFile { get; } = new("--token-file")
    {
        Description = $"File holding the token [env NEKKO_TOKEN_FILE; default <data dir>/{TokenFileName}]",
        HelpName = "PATH",
        Recursive = true,
    };

    public Option<string> CaFile { get; } = new("--ca-file")
    {
        Description = $"PEM file of the CA the boot server's HTTPS certificate must chain to [env NEKKO_CA_FILE; default <data dir>/{CaFileName}]",
        HelpName = "PATH",
        Recursive = true,
    };

    public Option<string> DataDir { get; } = new("--data-dir")
    {
        Description = $"Boot server data directory, where {TokenFileName} and {CaFileName} are looked for [env NEKKO_DATA_DIR; default {DefaultDataDir}]",
        HelpName = "PATH",
        Recursive = true,
    };

    public Option<string> Output { get; } = new Option<string>("--output", "-o")
    {
        Description = "Output format",
        DefaultValueFactory = _ => "table",
        Recursive = true,
    }.AcceptOnlyFromAmong("table", "json");

    public void AddTo(Command root)
    {
        root.Options.Add(Server);
        root.Options.Add(Token);
        root.Options.Add(TokenFile);
        root.Options.Add(CaFile);
        root.Options.Add(DataDir);
        root.Options.Add(Output);
    }
}
