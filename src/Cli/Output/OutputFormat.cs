namespace NekkoMetal.Cli.Output;

/// <summary>The values of <c>-o|--output</c>.</summary>
internal enum OutputFormat
{
    /// <summary>Aligned columns (lists) or <c>key = value</c> lines (one object), for people.</summary>
    Table,

    /// <summary>The server's JSON, indented, for scripts.</summary>
    Json,
}
