namespace NekkoMetal.BootServer;

/// <summary>
/// Log event ids of the boot server, one range per area: 2000–2099 host and embedded etcd, 2100–2199 bootstrap,
/// 2200–2299 admin API and auth, 2300–2399 boot protocols. (The Inventory library uses 1000–1999.)
/// </summary>
internal static class EventIds
{
    public const int EtcdExternal = 2000;
    public const int EtcdStarting = 2001;
    public const int EtcdReady = 2002;
    public const int EtcdDied = 2003;
    public const int EtcdRestartFailed = 2004;
    public const int EtcdStopped = 2005;
    public const int EtcdLeftover = 2006;
    public const int EtcdOutput = 2007;
    public const int BootstrapRetry = 2100;
    public const int AdminTokenCreated = 2101;
    public const int AdminTokenElsewhere = 2102;
    public const int BootstrapDone = 2103;
    public const int ApiServerError = 2200;
    public const int TftpOff = 2300;
    public const int BootFiles = 2301;
    public const int BootRateLimited = 2310;

    // 2400–2499: assets (store, replication, serving)
    public const int AssetFetched = 2400;
    public const int AssetFetchFailed = 2401;
    public const int AssetRemoved = 2402;
    public const int AssetPassFailed = 2403;
    public const int AssetServerIdentity = 2404;
    public const int AssetConnectionDropped = 2405;

    // 2500–2599: boot profiles and rendered configuration
    public const int ConfigServed = 2500;
    public const int InstallScript = 2501;
    public const int ProfileNotBootable = 2502;
    public const int InstallReported = 2503;

    // 2600–2649: TLS listeners, CA bundle, PKI API
    public const int CaBundleWritten = 2600;
    public const int InsecureHttpApi = 2601;
    public const int PkiCertificateIssued = 2602;

    // 2700–2799: agent API, heartbeats and the leader-elected controllers (state setter, replacement)
    public const int StateSweepFailed = 2700;
    public const int HeartbeatRefused = 2701;
    public const int AgentCertificateRefused = 2702;
    public const int AgentEnrolled = 2703;
    public const int AgentRenewed = 2704;
}
