using System.Runtime.Versioning;

// The boot server runs on Linux only (raw sockets, network namespaces, Debian's etcd, Unix file modes).
[assembly: SupportedOSPlatform("linux")]
