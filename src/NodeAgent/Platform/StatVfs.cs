using System.Runtime.InteropServices;

namespace NekkoMetal.NodeAgent.Platform;

/// <summary>Space and inodes of a mounted filesystem, as statvfs(3) reports them.</summary>
/// <remarks>
/// <para><c>ReadOnly</c>: ST_RDONLY in f_flag.</para>
/// </remarks>
internal sealed record FilesystemUsage(ulong TotalBytes, ulong AvailableBytes, ulong TotalInodes, ulong FreeInodes, bool ReadOnly);

/// <summary>statvfs(3) on Linux (glibc and musl share the 64-bit layout).</summary>
internal static partial class StatVfs
{
    private const ulong StRdOnly = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfsBuffer
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FilesystemId;
        public ulong Flags;
        public ulong NameMax;
        public int Spare0;
        public int Spare1;
        public int Spare2;
        public int Spare3;
        public int Spare4;
        public int Spare5;
    }

    [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int NativeStatVfs(string path, out StatVfsBuffer buffer);

    /// <summary>The usage of the filesystem mounted at <paramref name="path"/>, or null when statvfs fails (stale NFS, permissions).</summary>
    public static FilesystemUsage? TryGet(string path)
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8 || NativeStatVfs(path, out var b) != 0)
        {
            return null;
        }

        var fragment = b.FragmentSize != 0 ? b.FragmentSize : b.BlockSize;
        return new FilesystemUsage(b.Blocks * fragment, b.BlocksAvailable * fragment, b.Files, b.FilesAvailable, (b.Flags & StRdOnly) != 0);
    }
}
