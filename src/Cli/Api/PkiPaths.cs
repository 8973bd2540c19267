namespace NekkoMetal.Cli.Api;

/// <summary>PKI paths, relative to <c>/api/v1/</c>.</summary>
internal static class PkiPaths
{
    public const string Issue = "pki/issue";

    public static string Ca(string ca) => $"pki/ca/{ApiPaths.Segment(ca)}";
}
