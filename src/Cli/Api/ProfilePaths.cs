namespace NekkoMetal.Cli.Api;

/// <summary>Boot profile paths, relative to <c>/api/v1/</c>; the role is percent-encoded.</summary>
internal static class ProfilePaths
{
    public const string Profiles = "profiles";

    public static string Profile(string role) => $"{Profiles}/{ApiPaths.Segment(role)}";
}
