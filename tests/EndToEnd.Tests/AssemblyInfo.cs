using System.Runtime.Versioning;

[assembly: SupportedOSPlatform("linux")]

// The VMs share two cores: one boot at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
