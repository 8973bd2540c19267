namespace NekkoMetal.KubeInstaller.Execution.Assets;

/// <summary>
/// Where binaries come from, by asset name: in production the boot servers' asset store, in tests a directory.
/// The executor checks each binary's SHA-256 on the node, so a source need not be trusted for integrity.
/// </summary>
public interface IAssetSource
{
    /// <summary>Opens the asset for reading (a seekable stream when the length is known).</summary>
    Task<Stream> OpenAsync(string assetName, CancellationToken ct);
}

/// <summary>Assets as files of one directory; names with path separators or dot-dot are refused.</summary>
public sealed class DirectoryAssetSource(string root) : IAssetSource
{
    public Task<Stream> OpenAsync(string assetName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(assetName);
        if (assetName.Length == 0 || assetName.Contains('/', StringComparison.Ordinal) || assetName.Contains('\\', StringComparison.Ordinal)
            || assetName is "." or "..")
        {
            throw new OperationFailedException($"asset name '{assetName}' is not a plain file name");
        }

        var path = Path.Combine(root, assetName);
        if (!File.Exists(path))
        {
            throw new OperationFailedException($"asset '{assetName}' not found in {root}");
        }

        return Task.FromResult<Stream>(File.OpenRead(path));
    }
}
