namespace NekkoMetal.Inventory;

/// <summary>
/// Log event ids of the Inventory library, one range per area:
/// 1000–1099 cache and watch, 1100–1199 machines, 1200–1299 IPAM and DHCP leases, 1300–1399 tokens and schema, 1400–1499 boot and discovery.
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
    public const int DhcpBlockClaimed = 1250;
    public const int DhcpBlocksLost = 1251;
    public const int DhcpKeepAliveFailed = 1252;
    public const int DhcpBlockClaimFailed = 1253;
    public const int SchemaCreated = 1300;
    public const int TokenCreated = 1301;
    public const int ProgressFlushFailed = 1400;
    public const int DiscoveryRegistered = 1401;
    // 1500–1599: assets and the boot-server registry
    public const int AssetStored = 1500;
    public const int AssetDeleted = 1501;
    public const int AssetCatalogLoaded = 1502;
    public const int AssetWatchFailed = 1503;
    public const int AssetBadValue = 1504;
    public const int ServerRegistered = 1550;
    public const int ServerLeaseLost = 1551;
    public const int ServerRegistryFailed = 1552;
    // 1600–1699: boot profiles and install records
    public const int ProfileSaved = 1600;
    public const int ProfileDeleted = 1601;
    public const int InstallRecorded = 1602;
    public const int InstallReported = 1603;
    public const int ReinstallRequested = 1604;
    // 1700–1799: leader election, heartbeats and the state setter
    public const int LeaderElected = 1700;
    public const int LeaderLost = 1701;
    public const int LeaderResigned = 1702;
    public const int LeaderElectionFailed = 1703;
    public const int StateSetterChanged = 1750;
    public const int StateSetterFailed = 1751;
    public const int StateSetterDeposed = 1752;
    public const int ReplacementStarted = 1760;
    public const int ReplacementSpareChosen = 1761;
    public const int ReplacementWoken = 1762;
    public const int ReplacementWakeFailed = 1763;
    public const int ReplacementGaveUp = 1764;
    public const int ReplacementCompleted = 1765;
    public const int ReplacementHeld = 1766;
    public const int ReplacementStepFailed = 1767;
    public const int ReplacementDeposed = 1768;
}
