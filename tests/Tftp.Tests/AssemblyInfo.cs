using System.Runtime.Versioning;

// The TFTP server is Linux-only (DirectoryFileSource checks opened files through /proc/self/fd).
[assembly: SupportedOSPlatform("linux")]
