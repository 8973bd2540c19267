namespace NekkoMetal.BootServer.Configuration;

/// <summary>
/// Every setting of nekko-bootserver. Each has a flag, an environment variable and a config-file key;
/// <see cref="BootServerSettings"/> lists them (and prints them for --help).
/// </summary>
public sealed class BootServerOptions
{
    public string DataDir { get; set; } = "/var/lib/nekkometal";
    public string HttpUrl { get; set; } = "http://0.0.0.0:8080";

    /// <summary>
    /// Listen URL of the HTTPS endpoint (admin API, agent API); its certificate comes from the boot-server HTTPS CA.
    /// Plain HTTP (<see cref="HttpUrl"/>) then serves only what firmware and the discovery image need.
    /// </summary>
    public string HttpsUrl { get; set; } = "https://0.0.0.0:8443";

    /// <summary>Serve the admin and agent API on plain HTTP too (labs only; logged as a warning at start).</summary>
    public bool InsecureHttpApi { get; set; }

    /// <summary>Extra DNS names and IP addresses of the HTTPS certificate, comma-separated (beside the advertised ones).</summary>
    public string HttpsNames { get; set; } = "";

    /// <summary>Lifetime of the boot server's HTTPS certificate; renewed at two thirds of it.</summary>
    public double HttpsCertificateDays { get; set; } = 30;

    /// <summary>Vault's address (e.g. https://vault.lab:8200); empty: the built-in CA issues.</summary>
    public string VaultAddress { get; set; } = "";

    /// <summary><c>token</c> or <c>approle</c>.</summary>
    public string VaultAuth { get; set; } = "token";

    /// <summary>A Vault token (prefer <see cref="VaultTokenFile"/> or the environment: flags show in ps).</summary>
    public string VaultToken { get; set; } = "";

    public string VaultTokenFile { get; set; } = "";
    public string VaultRoleId { get; set; } = "";
    public string VaultSecretId { get; set; } = "";
    public string VaultSecretIdFile { get; set; } = "";
    public string VaultAppRoleMount { get; set; } = "approle";
    public string VaultNamespace { get; set; } = "";

    /// <summary>PEM file of the CA of Vault's own TLS certificate; empty: the system trust store.</summary>
    public string VaultCaFile { get; set; } = "";

    /// <summary>PKI mounts per CA as <c>ca=mount</c> pairs (boot-server-https, agent-client, kubernetes, kubernetes-etcd); unnamed CAs keep the defaults.</summary>
    public string VaultMounts { get; set; } = "";

    /// <summary>The PKI role used on every mount.</summary>
    public string VaultRole { get; set; } = "nekko";

    /// <summary>Comma-separated etcd client URLs; empty = start the embedded etcd.</summary>
    public string EtcdEndpoints { get; set; } = "";

    public string EtcdPrefix { get; set; } = "/nekko/";
    public double EtcdTimeoutSeconds { get; set; } = 5;
    public int EmbeddedEtcdClientPort { get; set; } = 12379;
    public int EmbeddedEtcdPeerPort { get; set; } = 12380;
    public string EtcdBinary { get; set; } = "/usr/bin/etcd";
    public string DefaultSubnet { get; set; } = "10.69.0.0/24";
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest asset accepted by <c>PUT /api/v1/assets/{name}</c> (413 above); content goes to DATA_DIR/assets.</summary>
    public long MaxAssetBytes { get; set; } = 16L << 30;

    /// <summary>This boot server's id among its peers (<c>servers/{id}</c>); empty: DATA_DIR/server-id, created on first start.</summary>
    public string ServerId { get; set; } = "";

    /// <summary>Comma-separated HTTP base URLs peers reach this server at; empty: from httpUrl (every local address when it listens on 0.0.0.0).</summary>
    public string AdvertiseUrls { get; set; } = "";

    /// <summary>Where the discovery kernel and initramfs are (<c>vmlinuz</c>, <c>initrd.img</c>); default DATA_DIR/discovery.</summary>
    public string DiscoveryDir { get; set; } = "";

    /// <summary>Kernel command line of the discovery image (the boot server adds its URL and a bootstrap token).</summary>
    public string DiscoveryKernelArgs { get; set; } = "console=tty0 console=ttyS0 panic=-1 cryptomgr.notests quiet";

    /// <summary>Register discovered machines at once (true) or hold them for an admin's approval (false).</summary>
    public bool DiscoveryAutoAccept { get; set; } = true;

    /// <summary>Lifetime of the bootstrap token a discovery boot gets.</summary>
    public double DiscoveryTokenMinutes { get; set; } = 30;

    /// <summary>
    /// Requests per minute one client address may make to the plain-HTTP boot paths that mint bootstrap tokens or
    /// render configuration (<c>/boot/ipxe</c>, <c>/boot/config/…</c>); more get 429 with Retry-After. 0: no limit.
    /// A machine fetches these once or twice per boot.
    /// </summary>
    public int BootRequestsPerMinute { get; set; } = 60;

    /// <summary>Directory of iPXE binaries served over HTTP and TFTP (Debian's ipxe package).</summary>
    public string IpxeDir { get; set; } = "/usr/lib/ipxe";

    /// <summary>
    /// DHCP interfaces as <c>name=mode</c> pairs, comma-separated, mode <c>authoritative</c> or <c>proxy</c>
    /// (e.g. <c>br0=authoritative</c>). Empty (the default): no DHCP at all.
    /// </summary>
    public string DhcpInterfaces { get; set; } = "";

    /// <summary>Send IPv6 router advertisements (router lifetime 0) on the DHCP interfaces, so iPXE does not wait for them.</summary>
    public bool DhcpRouterAdvertisements { get; set; }

    /// <summary>
    /// Hand every iPXE client our own iPXE binary over TFTP once before its script (per MAC, for 5 minutes), even when its
    /// NIC ROM is iPXE already: for ROMs too old for our scripts, and to exercise the legacy TFTP chain.
    /// </summary>
    public bool DhcpChainIpxe { get; set; }

    /// <summary>UDP port of the TFTP server; 0 turns TFTP off.</summary>
    public int TftpPort { get; set; } = 69;

    public string TftpAddress { get; set; } = "0.0.0.0";

    /// <summary>TFTP root; default DATA_DIR/tftp, which the boot server fills with copies of the iPXE binaries.</summary>
    public string TftpRoot { get; set; } = "";

    public bool UsesOwnBootFiles => TftpRoot.Length == 0;

    /// <summary>Where TFTP and HTTP take the iPXE binaries from.</summary>
    public string EffectiveTftpRoot => TftpRoot.Length > 0 ? TftpRoot : Path.Combine(DataDir, "tftp");

    public string EffectiveDiscoveryDir => DiscoveryDir.Length > 0 ? DiscoveryDir : Path.Combine(DataDir, "discovery");

    public IReadOnlyList<string> EndpointList =>
        EtcdEndpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public bool UsesEmbeddedEtcd => EndpointList.Count == 0;

    public string AdminTokenFile => Path.Combine(DataDir, "admin.token");

    /// <summary>The boot-server HTTPS CA chain (issuing CA first, root last), written at start for nekkoctl and users.</summary>
    public string CaBundleFile => Path.Combine(DataDir, "ca.pem");
}
