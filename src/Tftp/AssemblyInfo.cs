using System.Runtime.Versioning;

// DirectoryFileSource checks every opened file through /proc/self/fd (Linux procfs), like the boot server it runs in.
[assembly: SupportedOSPlatform("linux")]
