namespace NekkoMetal.Inventory;

/// <summary>Where and how the inventory talks to etcd.</summary>
public sealed record InventoryOptions
{
    /// <summary>etcd client URLs, e.g. <c>http://10.0.0.1:2379</c>. Empty means: the embedded etcd of the boot server.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>Key prefix for all NekkoMetal data; starts and ends with '/'.</summary>
    public string Prefix { get; init; } = "/nekko/";

    /// <summary>Deadline of one etcd call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a lost compare-and-swap is retried before the caller gets a conflict.</summary>
    public int MaxCasRetries { get; init; } = 64;

    /// <summary>
    /// How long the first DHCP lease write waits for others to share its etcd transaction (group commit). Each
    /// transaction costs etcd and this process far more than each lease in it (bench/README.md, DHCP); a few
    /// milliseconds on an ACK are nothing to a DHCP client. A full batch goes at once. Zero: no waiting.
    /// </summary>
    public TimeSpan DhcpCommitWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The subnet written as the IPAM config when etcd has none yet (first start).</summary>
    public string DefaultSubnet { get; init; } = "10.69.0.0/24";
}
