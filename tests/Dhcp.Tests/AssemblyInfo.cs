using System.Runtime.Versioning;

// The transport tests use Linux sockets options, network namespaces and setns(2).
[assembly: SupportedOSPlatform("linux")]
