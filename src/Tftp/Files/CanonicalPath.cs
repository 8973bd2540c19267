namespace NekkoMetal.Tftp.Files;

/// <summary>
/// realpath(3) in managed code: an absolute path with every symbolic link, <c>.</c> and <c>..</c>
/// resolved, component by component from the file system root, or null when a component does not
/// exist, cannot be read, or links loop (more than 40 links, as Linux's ELOOP).
/// </summary>
internal static class CanonicalPath
{
    private const int MaxLinks = 40;

    public static string? Resolve(string absolutePath)
    {
        if (!Path.IsPathRooted(absolutePath))
        {
            return null;
        }

        var pending = new Stack<string>();
        Push(pending, absolutePath);
        var current = "/";
        var links = 0;
        try
        {
            while (pending.TryPop(out var segment))
            {
                if (segment is "" or ".")
                {
                    continue;
                }

                if (segment == "..")
                {
                    current = Path.GetDirectoryName(current) ?? "/";
                    continue;
                }

                var next = current == "/" ? "/" + segment : current + "/" + segment;
                var target = new FileInfo(next).LinkTarget;
                if (target is not null)
                {
                    if (++links > MaxLinks)
                    {
                        return null;
                    }

                    if (target.StartsWith('/'))
                    {
                        current = "/";
                    }

                    Push(pending, target);
                    continue;
                }

                if (!Path.Exists(next))
                {
                    return null;
                }

                current = next;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // ENOTDIR, ENAMETOOLONG, EACCES on a directory on the way...
        }

        return current;
    }

    private static void Push(Stack<string> pending, string path)
    {
        var segments = path.Split('/');
        for (var i = segments.Length - 1; i >= 0; i--)
        {
            pending.Push(segments[i]);
        }
    }
}
