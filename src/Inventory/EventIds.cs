namespace NekkoMetal.Inventory;

/// <summary>
/// Log event ids of the Inventory library, one range per area:
/// 1000–1099 cache and watch, 1100–1199 machines, 1200–1299 IPAM, 1300–1399 tokens and schema, 1400–1499 boot and discovery.
/// The boot server uses 2000 and up.
/// </summary>
internal static class EventIds
{
    public const int CacheLoaded = 1000;
    public const int WatchFailed = 1001;
    public const int WatchCompacted = 1002;
    public const int WatchResumed = 1003;
    public const int CacheBadValue = 1004;
    public const int MachineRegistered = 1100;
    public const int CasRetry = 1101;
    public const int MachineStateChanged = 1102;
    public const int IpamUpdated = 1200;
    public const int SchemaCreated = 1300;
    public const int TokenCreated = 1301;
    public const int ProgressFlushFailed = 1400;
    public const int DiscoveryRegistered = 1401;
}
