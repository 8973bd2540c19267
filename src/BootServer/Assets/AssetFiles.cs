using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Assets;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// Asset content on this server's disk, addressed by SHA-256: <c>{root}/sha256/{hex}</c>. Content is streamed into
/// <c>{root}/tmp/</c> while it is hashed, flushed to disk, checked against the expected hash and size, and only then
/// renamed to its address; a failed or interrupted write leaves nothing but a deleted temp file. Paths are built
/// from validated hex only, so no name from a client ever reaches the file system.
/// </summary>
public sealed class AssetFiles
{
    private const int BufferSize = 1 << 20;
    private readonly ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);

    public AssetFiles(string root)
    {
        Root = root;
        ContentDir = Path.Combine(root, "sha256");
        TempDir = Path.Combine(root, "tmp");
        Directory.CreateDirectory(ContentDir);
        Directory.CreateDirectory(TempDir);
        foreach (var leftover in Directory.EnumerateFiles(TempDir))
        {
            File.Delete(leftover); // uploads and fetches cut short by a crash
        }
    }

    public string Root { get; }

    public string ContentDir { get; }

    public string TempDir { get; }

    public string PathOf(string sha256) =>
        AssetName.IsSha256(sha256) ? Path.Combine(ContentDir, sha256) : throw new ArgumentException("not a SHA-256 hex digest", nameof(sha256));

    public bool Has(string sha256) => AssetName.IsSha256(sha256) && File.Exists(Path.Combine(ContentDir, sha256));

    /// <summary>The content addresses on disk.</summary>
    public IReadOnlyList<string> List() =>
        Directory.EnumerateFiles(ContentDir).Select(Path.GetFileName).Where(AssetName.IsSha256).Select(n => n!).ToList();

    /// <summary>True while a write that produced <paramref name="sha256"/> has not yet recorded it (its metadata is on the way).</summary>
    public bool IsHeld(string sha256) => _held.ContainsKey(sha256);

    public void Delete(string sha256)
    {
        try
        {
            File.Delete(PathOf(sha256));
        }
        catch (IOException)
        {
            // in use or gone: the next sweep tries again
        }
    }

    /// <summary>
    /// Streams <paramref name="source"/> to disk. Throws <see cref="BadHttpRequestException"/> (413) beyond
    /// <paramref name="maxBytes"/> and <see cref="ValidationException"/> when the content is not
    /// <paramref name="expectedSha256"/> or <paramref name="expectedSize"/>. The returned content is held (not swept as
    /// unreferenced) until disposed.
    /// </summary>
    public async Task<StoredContent> WriteAsync(Stream source, long maxBytes, string? expectedSha256, long? expectedSize, string hashField, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(source);
        var temp = Path.Combine(TempDir, Guid.NewGuid().ToString("N") + ".part");
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            }))
            {
                int n;
                while ((n = await source.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
                {
                    size += n;
                    if (size > maxBytes)
                    {
                        throw new BadHttpRequestException($"the asset is larger than the limit of {maxBytes} bytes (--max-asset-bytes)", StatusCodes.Status413PayloadTooLarge);
                    }

                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }

                file.Flush(flushToDisk: true);
            }

            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (expectedSha256 is not null && sha256 != expectedSha256)
            {
                throw new ValidationException(hashField, $"the content's SHA-256 is {sha256}, not {expectedSha256}; nothing was stored");
            }

            if (expectedSize is { } s && s != size)
            {
                throw new ValidationException("size", $"the content is {size} bytes, not {s}; nothing was stored");
            }

            var held = new StoredContent(this, sha256, size);
            try
            {
                var target = Path.Combine(ContentDir, sha256);
                if (File.Exists(target))
                {
                    File.Delete(temp); // the same content is here already
                }
                else
                {
                    File.Move(temp, target, overwrite: true);
                }
            }
            catch
            {
                held.Dispose();
                throw;
            }

            return held;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private void Hold(string sha256) => _held.AddOrUpdate(sha256, 1, (_, n) => n + 1);

    private void Release(string sha256)
    {
        while (_held.TryGetValue(sha256, out var n))
        {
            if (n <= 1 ? _held.TryRemove(new KeyValuePair<string, int>(sha256, n)) : _held.TryUpdate(sha256, n - 1, n))
            {
                return;
            }
        }
    }

    /// <summary>Content just written: held against the unreferenced-content sweep until disposed.</summary>
    public sealed class StoredContent : IDisposable
    {
        private AssetFiles? _files;

        internal StoredContent(AssetFiles files, string sha256, long size)
        {
            _files = files;
            Sha256 = sha256;
            Size = size;
            files.Hold(sha256);
        }

        public string Sha256 { get; }

        public long Size { get; }

        public void Dispose() => Interlocked.Exchange(ref _files, null)?.Release(Sha256);
    }
}
