namespace NekkoMetal.KubeInstaller.Execution.Ssh;

/// <summary>What a remote command returned.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}
