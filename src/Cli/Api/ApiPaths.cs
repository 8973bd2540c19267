namespace NekkoMetal.Cli.Api;

/// <summary>Admin API paths, relative to <c>/api/v1/</c>; user-given segments are percent-encoded.</summary>
internal static class ApiPaths
{
    public const string Machines = "machines";
    public const string Ipam = "ipam";
    public const string Audit = "audit";
    public const string Tokens = "tokens";
    public const string Replacements = "replacements";

    public static string Machine(string serial) => $"{Machines}/{Segment(serial)}";

    public static string MachineState(string serial) => $"{Machine(serial)}/state";

    public static string MachineReinstall(string serial) => $"{Machine(serial)}/reinstall";

    public static string MachineHealth(string serial) => $"{Machine(serial)}/health";

    public static string Token(string name) => $"{Tokens}/{Segment(name)}";

    /// <summary>
    /// Percent-encodes one path segment. "." and ".." are refused: URI resolution would remove them
    /// and the request would reach another resource.
    /// </summary>
    public static string Segment(string value)
    {
        if (value.Length == 0 || value is "." or "..")
        {
            throw new CliUsageException($"\"{value}\" is not a valid name");
        }

        return Uri.EscapeDataString(value);
    }
}
