namespace NekkoMetal.NodeAgent.Platform;

/// <summary>
/// The thin reader under every fact and check: reads files of the running system (or of a fixture tree that
/// mirrors it) below one root. Nothing here throws for a missing or unreadable file — a file that cannot be
/// read is <c>null</c>, and the parsers and evaluators turn that into "unknown" with a message.
/// </summary>
/// <remarks>
/// <para><c>root</c>: "/" on a node; a fixture directory in tests.</para>
/// </remarks>
internal sealed class HostRoot(string root)
{
    /// <summary>Kernel pseudo-files are small; anything bigger than this is not one we want.</summary>
    private const int MaxFileBytes = 4 * 1024 * 1024;

    public static HostRoot System { get; } = new("/");

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The absolute path of a path given from the root ("/proc/meminfo" or "proc/meminfo").</summary>
    public string Resolve(string path) => Path.Join(Root, path.TrimStart('/'));

    /// <summary>The whole file as text, or null when it is missing, unreadable or refuses a read (sysfs answers EINVAL for a down link's speed).</summary>
    public string? ReadText(string path)
    {
        try
        {
            using var stream = new FileStream(Resolve(path), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            using var reader = new StreamReader(stream);
            var text = new global::System.Text.StringBuilder();
            var buffer = new char[4096];
            int read;
            while (text.Length < MaxFileBytes && (read = reader.Read(buffer, 0, buffer.Length)) > 0)
            {
                text.Append(buffer, 0, read);
            }

            return text.ToString();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The first line of a file, trimmed; null when the file cannot be read.</summary>
    public string? ReadLine(string path) => ReadText(path)?.Split('\n', 2)[0].Trim();

    /// <summary>The file's bytes (binary sysfs attributes such as a SCSI disk's <c>vpd_pg80</c>), or null.</summary>
    public byte[]? ReadBytes(string path)
    {
        try
        {
            var info = new FileInfo(Resolve(path));
            return info.Exists ? File.ReadAllBytes(info.FullName) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The last component of a symlink's target (<c>device/driver</c> → "e1000e"), without following it; null when it is not a link.</summary>
    public string? ReadLinkName(string path)
    {
        try
        {
            var target = new FileInfo(Resolve(path)).LinkTarget;
            return target is null ? null : Path.GetFileName(target.TrimEnd('/'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public bool Exists(string path)
    {
        var full = Resolve(path);
        return File.Exists(full) || Directory.Exists(full) || new FileInfo(full).LinkTarget is not null;
    }

    /// <summary>Names of the entries of a directory (files, directories and links), sorted ordinally; empty when it is missing.</summary>
    public IReadOnlyList<string> List(string path)
    {
        try
        {
            var names = Directory.EnumerateFileSystemEntries(Resolve(path)).Select(p => Path.GetFileName(p)).ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
