using System.Text.RegularExpressions;

namespace NekkoMetal.BootServer.Boot;

/// <summary>
/// Copies the iPXE binaries (Debian's ipxe package, or the user's build) into the boot server's own boot-file
/// directory (DATA_DIR/tftp), which TFTP and HTTP serve. Debian installs some of them as symlinks into /boot,
/// and the servers refuse to follow links out of their root — so they serve real copies, refreshed at every start.
/// </summary>
public static partial class IpxeBinaries
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\.(efi|kpxe|kkpxe|pxe|lkrn)$", RegexOptions.CultureInvariant)]
    public static partial Regex Name();

    /// <summary>Copies every iPXE binary of <paramref name="source"/> (links resolved) that is missing or changed in <paramref name="target"/>.</summary>
    public static IReadOnlyList<string> Sync(string source, string target)
    {
        Directory.CreateDirectory(target);
        var copied = new List<string>();
        if (!Directory.Exists(source))
        {
            return copied;
        }

        foreach (var path in Directory.EnumerateFileSystemEntries(source))
        {
            var name = Path.GetFileName(path);
            if (!Name().IsMatch(name))
            {
                continue;
            }

            var real = new FileInfo(path);
            if (real.LinkTarget is not null && real.ResolveLinkTarget(returnFinalTarget: true) is FileInfo resolved)
            {
                real = resolved;
            }

            if (!real.Exists)
            {
                continue;
            }

            var dest = new FileInfo(Path.Combine(target, name));
            if (dest.Exists && dest.Length == real.Length && dest.LastWriteTimeUtc == real.LastWriteTimeUtc)
            {
                continue;
            }

            var tmp = dest.FullName + ".tmp";
            File.Copy(real.FullName, tmp, overwrite: true);
            File.SetLastWriteTimeUtc(tmp, real.LastWriteTimeUtc);
            File.Move(tmp, dest.FullName, overwrite: true);
            copied.Add(name);
        }

        return copied;
    }
}
