using System.CommandLine;
using System.CommandLine.Help;

namespace NekkoMetal.Cli.Commands;

/// <summary>Builds the command tree. A fresh tree per run: the actions close over that run's environment.</summary>
internal static class NekkoctlCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var options = new GlobalOptions();
        var runner = new CommandRunner(options, environment);

        // A plain Command rather than RootCommand, whose name is the host executable's ("testhost" in tests).
        var root = new Command("nekkoctl", "Command-line client of the NekkoMetal boot server's admin API.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        options.AddTo(root);
        root.Subcommands.Add(MachinesCommands.Create(runner));
        root.Subcommands.Add(IpamCommands.Create(runner));
        root.Subcommands.Add(AuditCommand.Create(runner));
        root.Subcommands.Add(ReplacementsCommand.Create(runner));
        root.Subcommands.Add(ClusterCommands.Create(runner));
        root.Subcommands.Add(TokensCommands.Create(runner));
        root.Subcommands.Add(DiscoveryCommands.Create(runner));
        root.Subcommands.Add(AssetsCommands.Create(runner, options));
        root.Subcommands.Add(ProfilesCommands.Create(runner));
        root.Subcommands.Add(PkiCommands.Create(runner));
        return root;
    }
}
