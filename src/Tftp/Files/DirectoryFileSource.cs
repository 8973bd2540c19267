namespace NekkoMetal.Tftp.Files;

/// <summary>
/// Serves regular files under one directory, and nothing outside it.
/// <list type="number">
/// <item>The name is checked as text first: control characters (C0, DEL, C1) and backslashes give
/// access violation; one leading <c>/</c> is dropped (PXE ROMs and GRUB ask for <c>/pxelinux.0</c>:
/// the root acts as <c>/</c>, as tftpd-hpa with <c>-s</c>); a name still absolute after that (<c>//x</c>)
/// or with a <c>..</c> segment gives access violation; empty and <c>.</c> segments are skipped.</item>
/// <item>The path under the root is resolved like realpath(3) (<see cref="CanonicalPath"/>): a file
/// reached through a symbolic link that leads outside the root gives access violation; links
/// that stay inside are followed. Missing files, directories, unreadable paths give file not found
/// (file not found does not tell whether something exists outside the root: nothing outside is looked at
/// past the link).</item>
/// <item>The resolved path is opened and checked again through <c>/proc/self/fd</c>, so a link swapped
/// between check and open cannot lead outside; a stream that cannot seek (FIFO, device) is refused.</item>
/// </list>
/// </summary>
public sealed class DirectoryFileSource : ITftpFileSource
{
    private const int ReadBufferSize = 64 * 1024;
    private readonly string _rootPrefix;

    /// <param name="root">Absolute path of an existing directory; it may itself be (or go through) a symbolic link.</param>
    public DirectoryFileSource(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Path.IsPathFullyQualified(root))
        {
            throw new ArgumentException($"The TFTP root must be an absolute path, got '{root}'.", nameof(root));
        }

        var canonical = CanonicalPath.Resolve(root);
        if (canonical is null || !Directory.Exists(canonical))
        {
            throw new DirectoryNotFoundException($"The TFTP root '{root}' is not an existing directory.");
        }

        Root = canonical;
        _rootPrefix = canonical == "/" ? "/" : canonical + "/";
    }

    /// <summary>The root with its symbolic links resolved.</summary>
    public string Root { get; }

    public ValueTask<TftpFileResult> OpenAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Open(path));
    }

    internal TftpFileResult Open(string path)
    {
        if (!TryGetRelativePath(path, out var relative))
        {
            return TftpFileResult.AccessDenied;
        }

        if (relative.Length == 0)
        {
            return TftpFileResult.NotFound; // the root itself is a directory
        }

        var resolved = CanonicalPath.Resolve(_rootPrefix + relative);
        if (resolved is null)
        {
            return TftpFileResult.NotFound;
        }

        if (resolved == Root)
        {
            return TftpFileResult.NotFound; // a link to the root: a directory
        }

        if (!IsUnderRoot(resolved))
        {
            return TftpFileResult.AccessDenied;
        }

        FileStream stream;
        try
        {
            if (Directory.Exists(resolved))
            {
                return TftpFileResult.NotFound;
            }

            stream = new FileStream(resolved, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = ReadBufferSize,
                Options = FileOptions.SequentialScan,
            });
        }
        catch (UnauthorizedAccessException)
        {
            return TftpFileResult.AccessDenied;
        }
        catch (IOException)
        {
            return TftpFileResult.NotFound; // vanished, ELOOP, ENAMETOOLONG...
        }

        if (!stream.CanSeek || !IsUnderRoot(OpenedPath(stream)))
        {
            stream.Dispose();
            return TftpFileResult.AccessDenied;
        }

        return TftpFileResult.Found(new TftpFile(stream, stream.Length));
    }

    /// <summary>The name as a path relative to the root, with empty and <c>.</c> segments dropped; false when it must be refused.</summary>
    internal static bool TryGetRelativePath(string path, out string relative)
    {
        relative = "";
        foreach (var c in path)
        {
            if (char.IsControl(c) || c == '\\')
            {
                return false;
            }
        }

        var rest = path.StartsWith('/') ? path[1..] : path;
        if (rest.StartsWith('/'))
        {
            return false;
        }

        var kept = new List<string>();
        foreach (var segment in rest.Split('/'))
        {
            if (segment == "..")
            {
                return false;
            }

            if (segment is not ("" or "."))
            {
                kept.Add(segment);
            }
        }

        relative = string.Join('/', kept);
        return true;
    }

    private bool IsUnderRoot(string? path) => path is not null && path.StartsWith(_rootPrefix, StringComparison.Ordinal);

    private static string? OpenedPath(FileStream stream)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
