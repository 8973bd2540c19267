namespace NekkoMetal.Cli.Api;

/// <summary>Discovery approval paths, relative to <c>/api/v1/</c>; the serial is percent-encoded.</summary>
internal static class DiscoveryPaths
{
    public const string Pending = "discovery/pending";

    public static string PendingMachine(string serial) => $"{Pending}/{ApiPaths.Segment(serial)}";

    public static string Accept(string serial) => $"{PendingMachine(serial)}/accept";
}
