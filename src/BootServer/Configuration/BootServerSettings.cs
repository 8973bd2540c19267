using System.Globalization;
using System.Text;

namespace NekkoMetal.BootServer.Configuration;

/// <summary>
/// The table of settings: flag, environment variable, config key, help. Sources, lowest to highest precedence:
/// defaults, the JSON file given by --config (or NEKKO_CONFIG), environment, flags.
/// </summary>
public static class BootServerSettings
{
    public sealed record Setting(string Key, string Flag, string Env, string Help);

    public static readonly IReadOnlyList<Setting> All =
    [
        new("dataDir", "--data-dir", "NEKKO_DATA_DIR", "state directory: embedded etcd data, admin.token (default /var/lib/nekkometal)"),
        new("httpUrl", "--http-url", "NEKKO_HTTP_URL", "listen URL of the plain-HTTP boot endpoints firmware needs: /boot, /health, the discovery report (default http://0.0.0.0:8080)"),
        new("httpsUrl", "--https-url", "NEKKO_HTTPS_URL", "listen URL of the HTTPS endpoint: admin API, agent API (default https://0.0.0.0:8443; certificate from the built-in CA or Vault)"),
        new("insecureHttpApi", "--insecure-http-api", "NEKKO_INSECURE_HTTP_API", "also serve the API on plain HTTP (labs only; default false: plain HTTP serves only /boot, /health and the discovery report)"),
        new("httpsNames", "--https-names", "NEKKO_HTTPS_NAMES", "extra DNS names / IP addresses of the HTTPS certificate, comma-separated (always: advertised hosts, host name, localhost, 127.0.0.1, ::1)"),
        new("httpsCertificateDays", "--https-certificate-days", "NEKKO_HTTPS_CERTIFICATE_DAYS", "lifetime of the HTTPS certificate, renewed at 2/3 of it (default 30)"),
        new("vaultAddress", "--vault-address", "NEKKO_VAULT_ADDRESS", "Vault address for certificates (PKI secrets engine), e.g. https://vault.lab:8200; empty = built-in CA (default)"),
        new("vaultAuth", "--vault-auth", "NEKKO_VAULT_AUTH", "token or approle (default token)"),
        new("vaultToken", "--vault-token", "NEKKO_VAULT_TOKEN", "Vault token (prefer the environment or --vault-token-file: flags are visible in ps)"),
        new("vaultTokenFile", "--vault-token-file", "NEKKO_VAULT_TOKEN_FILE", "file holding the Vault token (e.g. written by Vault Agent; read again when Vault refuses the token)"),
        new("vaultRoleId", "--vault-role-id", "NEKKO_VAULT_ROLE_ID", "AppRole role id"),
        new("vaultSecretId", "--vault-secret-id", "NEKKO_VAULT_SECRET_ID", "AppRole secret id (prefer the environment or --vault-secret-id-file)"),
        new("vaultSecretIdFile", "--vault-secret-id-file", "NEKKO_VAULT_SECRET_ID_FILE", "file holding the AppRole secret id"),
        new("vaultAppRoleMount", "--vault-approle-mount", "NEKKO_VAULT_APPROLE_MOUNT", "mount of the AppRole auth method (default approle)"),
        new("vaultNamespace", "--vault-namespace", "NEKKO_VAULT_NAMESPACE", "Vault Enterprise namespace (X-Vault-Namespace; default none)"),
        new("vaultCaFile", "--vault-ca-file", "NEKKO_VAULT_CA_FILE", "PEM file of the CA of Vault's own TLS certificate (default: the system trust store)"),
        new("vaultMounts", "--vault-mounts", "NEKKO_VAULT_MOUNTS", "PKI mounts per CA, e.g. 'boot-server-https=pki_https,agent-client=pki_agents' (defaults nekko-https, nekko-agents, nekko-kubernetes, nekko-kubernetes-etcd)"),
        new("vaultRole", "--vault-role", "NEKKO_VAULT_ROLE", "PKI role used on every mount (default nekko)"),
        new("etcdEndpoints", "--etcd-endpoints", "NEKKO_ETCD_ENDPOINTS", "comma-separated etcd client URLs; empty starts an embedded single-member etcd (default empty)"),
        new("etcdPrefix", "--etcd-prefix", "NEKKO_ETCD_PREFIX", "key prefix of all NekkoMetal data in etcd (default /nekko/)"),
        new("etcdTimeoutSeconds", "--etcd-timeout", "NEKKO_ETCD_TIMEOUT", "deadline of one etcd call in seconds (default 5)"),
        new("embeddedEtcdClientPort", "--embedded-etcd-client-port", "NEKKO_EMBEDDED_ETCD_CLIENT_PORT", "loopback client port of the embedded etcd (default 12379)"),
        new("embeddedEtcdPeerPort", "--embedded-etcd-peer-port", "NEKKO_EMBEDDED_ETCD_PEER_PORT", "loopback peer port of the embedded etcd (default 12380)"),
        new("etcdBinary", "--etcd-binary", "NEKKO_ETCD_BINARY", "etcd executable for the embedded etcd (default /usr/bin/etcd, Debian's etcd-server)"),
        new("defaultSubnet", "--default-subnet", "NEKKO_DEFAULT_SUBNET", "IPAM subnet written on first start when etcd has none (default 10.69.0.0/24)"),
        new("discoveryDir", "--discovery-dir", "NEKKO_DISCOVERY_DIR", "directory with the discovery image: vmlinuz and initrd.img (default DATA_DIR/discovery; build it with scripts/build-discovery-image.sh)"),
        new("discoveryKernelArgs", "--discovery-kernel-args", "NEKKO_DISCOVERY_KERNEL_ARGS", "kernel command line of the discovery image (default 'console=tty0 console=ttyS0 panic=-1 cryptomgr.notests quiet')"),
        new("discoveryAutoAccept", "--discovery-auto-accept", "NEKKO_DISCOVERY_AUTO_ACCEPT", "register discovered machines at once (true, default) or hold them for approval: /api/v1/discovery/pending (false)"),
        new("discoveryTokenMinutes", "--discovery-token-minutes", "NEKKO_DISCOVERY_TOKEN_MINUTES", "lifetime of a discovery bootstrap token (default 30)"),
        new("bootRequestsPerMinute", "--boot-requests-per-minute", "NEKKO_BOOT_REQUESTS_PER_MINUTE", "per client address, on /boot/ipxe and /boot/config (token-minting paths; default 60, 0 = no limit)"),
        new("ipxeDir", "--ipxe-dir", "NEKKO_IPXE_DIR", "directory of iPXE binaries: ipxe.efi, undionly.kpxe, ipxe.pxe (default /usr/lib/ipxe, Debian's ipxe package)"),
        new("dhcpInterfaces", "--dhcp-interfaces", "NEKKO_DHCP_INTERFACES", "DHCP on these interfaces, e.g. 'br0=authoritative' or 'eth0=proxy' (comma-separated); empty = no DHCP (default)"),
        new("dhcpRouterAdvertisements", "--dhcp-router-advertisements", "NEKKO_DHCP_ROUTER_ADVERTISEMENTS", "send IPv6 router advertisements (lifetime 0) on the DHCP interfaces so iPXE does not wait 13-16 s (default false)"),
        new("dhcpChainIpxe", "--dhcp-chain-ipxe", "NEKKO_DHCP_CHAIN_IPXE", "give iPXE ROMs our iPXE binary over TFTP once before their script (default false)"),
        new("tftpPort", "--tftp-port", "NEKKO_TFTP_PORT", "UDP port of the read-only TFTP server; 0 = off (default 69)"),
        new("tftpAddress", "--tftp-address", "NEKKO_TFTP_ADDRESS", "address the TFTP server binds (default 0.0.0.0)"),
        new("tftpRoot", "--tftp-root", "NEKKO_TFTP_ROOT", "directory served over TFTP and as /boot/{file} (default DATA_DIR/tftp, filled with copies of the iPXE binaries at start)"),
        new("maxRequestBodyBytes", "--max-request-body-bytes", "NEKKO_MAX_REQUEST_BODY_BYTES", "largest accepted API request body (default 4194304)"),
        new("maxAssetBytes", "--max-asset-bytes", "NEKKO_MAX_ASSET_BYTES", "largest asset accepted by PUT /api/v1/assets/{name} (default 17179869184, 16 GiB)"),
        new("unreachableAfterSeconds", "--unreachable-after-seconds", "NEKKO_UNREACHABLE_AFTER_SECONDS", "state setter: no heartbeat for this long makes a machine unreachable (default 90, 10-86400)"),
        new("unhealthyAfterSeconds", "--unhealthy-after-seconds", "NEKKO_UNHEALTHY_AFTER_SECONDS", "state setter: a critical check failing this long makes a machine unhealthy (default 60, 0-86400)"),
        new("stateSweepSeconds", "--state-sweep-seconds", "NEKKO_STATE_SWEEP_SECONDS", "how often the leading boot server turns heartbeats into states (default 5, 1-300)"),
        new("bootstrapTokenTtlMinutes", "--bootstrap-token-ttl-minutes", "NEKKO_BOOTSTRAP_TOKEN_TTL_MINUTES", "lifetime of an agent bootstrap token (single-use, traded with a CSR for the agent's client certificate; default 1440 = 24 h)"),
        new("agentCertificateDays", "--agent-certificate-days", "NEKKO_AGENT_CERTIFICATE_DAYS", "lifetime of an agent client certificate; agents renew at 2/3 of it (default 30)"),
        new("replacementEnabled", "--replacement-enabled", "NEKKO_REPLACEMENT_ENABLED", "replace failed machines by spares automatically (default true)"),
        new("replaceAfterSeconds", "--replace-after-seconds", "NEKKO_REPLACE_AFTER_SECONDS", "a machine with a role unhealthy or unreachable this long is replaced by a spare (default 300)"),
        new("maxConcurrentReplacements", "--max-concurrent-replacements", "NEKKO_MAX_CONCURRENT_REPLACEMENTS", "replacements in progress at once at most (default 1; 0 = none); control-plane roles always one at a time"),
        new("replacementCooldownSeconds", "--replacement-cooldown-seconds", "NEKKO_REPLACEMENT_COOLDOWN_SECONDS", "a machine that took a role by replacement is not replaced again for this long (default 1800)"),
        new("wakeTimeoutSeconds", "--wake-timeout-seconds", "NEKKO_WAKE_TIMEOUT_SECONDS", "a chosen spare that sends no heartbeat this long is given up on; another is chosen (default 600)"),
        new("wakeIntervalSeconds", "--wake-interval-seconds", "NEKKO_WAKE_INTERVAL_SECONDS", "Wake-on-LAN packets are repeated this often while waiting for the spare (default 30)"),
        new("replacementRebootSpare", "--replacement-reboot-spare", "NEKKO_REPLACEMENT_REBOOT_SPARE", "ask a spare's agent to reboot when it takes a role, so it network-boots into that role's install (default true)"),
        new("spareRole", "--spare-role", "NEKKO_SPARE_ROLE", "role of spare machines (default spare)"),
        new("controlPlaneRoles", "--control-plane-roles", "NEKKO_CONTROL_PLANE_ROLES", "comma-separated control-plane roles, replaced one at a time (default control-plane)"),
        new("wolBroadcast", "--wol-broadcast", "NEKKO_WOL_BROADCAST", "address of Wake-on-LAN packets (default: the directed broadcast of the spare's IPAM subnet)"),
        new("wolPort", "--wol-port", "NEKKO_WOL_PORT", "UDP port of Wake-on-LAN packets (default 9)"),
        new("kubeSshKey", "--kube-ssh-key", "NEKKO_KUBE_SSH_KEY", "Kubernetes installer: SSH private key the nodes accept; empty = the installer is off on this boot server (default empty)"),
        new("kubeSshUser", "--kube-ssh-user", "NEKKO_KUBE_SSH_USER", "Kubernetes installer: SSH user on the nodes (default root)"),
        new("kubeSshPort", "--kube-ssh-port", "NEKKO_KUBE_SSH_PORT", "Kubernetes installer: SSH port of the nodes (default 22)"),
        new("kubeConnectTimeoutSeconds", "--kube-connect-timeout-seconds", "NEKKO_KUBE_CONNECT_TIMEOUT_SECONDS", "Kubernetes installer: SSH connect + authentication limit (default 10)"),
        new("kubeCommandTimeoutSeconds", "--kube-command-timeout-seconds", "NEKKO_KUBE_COMMAND_TIMEOUT_SECONDS", "Kubernetes installer: limit of one remote command (default 60)"),
        new("kubeIntervalSeconds", "--kube-interval-seconds", "NEKKO_KUBE_INTERVAL_SECONDS", "Kubernetes installer: pause between rounds when idle or after a failure (default 10)"),
        new("kubeParallelism", "--kube-parallelism", "NEKKO_KUBE_PARALLELISM", "Kubernetes installer: nodes worked on at once (default 4)"),
        new("kubeHealthTimeoutSeconds", "--kube-health-timeout-seconds", "NEKKO_KUBE_HEALTH_TIMEOUT_SECONDS", "Kubernetes installer: how long a component may take to become healthy (default 90)"),
        new("kubeLastPhase", "--kube-last-phase", "NEKKO_KUBE_LAST_PHASE", "Kubernetes installer: last phase carried out: etcd-cluster, certificates, control-plane, kubelets, nodes, upgrade (default upgrade = all)"),
        new("leaderLeaseSeconds", "--leader-lease-seconds", "NEKKO_LEADER_LEASE_SECONDS", "TTL of the controllers' leader-election lease in etcd (default 10, 3-300)"),
        new("serverId", "--server-id", "NEKKO_SERVER_ID", "id of this boot server among its peers (default: DATA_DIR/server-id, created on first start)"),
        new("advertiseUrls", "--advertise-urls", "NEKKO_ADVERTISE_URLS", "comma-separated HTTP URLs peers reach this server at; their hosts are also names of the HTTPS certificate (default: from --http-url; every local address when it listens on 0.0.0.0)"),
    ];

    /// <summary>
    /// Turns flags and environment into configuration keys. Unknown flags and flags without a value are errors,
    /// all reported at once. Returns the config file path if one was given.
    /// </summary>
    /// <summary>Generic host switches passed through untouched (ASP.NET's test host and tooling use them).</summary>
    public static readonly IReadOnlyList<string> HostSwitches = ["--environment", "--contentRoot", "--applicationName"];

    public static (Dictionary<string, string?> Values, string? ConfigFile, List<string> Errors, List<string> HostArgs) Parse(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<string>();
        var hostArgs = new List<string>();
        environment.TryGetValue("NEKKO_CONFIG", out var configFile);
        foreach (var s in All)
        {
            if (environment.TryGetValue(s.Env, out var v) && v is not null)
            {
                values[s.Key] = v;
            }
        }

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}' (options start with --; see --help)");
                continue;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var flag = eq < 0 ? arg : arg[..eq];
            string? value = eq < 0 ? null : arg[(eq + 1)..];
            if (value is null)
            {
                if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    value = args[++i];
                }
            }

            if (HostSwitches.Contains(flag, StringComparer.OrdinalIgnoreCase))
            {
                hostArgs.Add($"{flag}={value}");
                continue;
            }

            if (flag == "--config")
            {
                if (string.IsNullOrEmpty(value))
                {
                    errors.Add("--config needs a file path");
                }

                configFile = value;
                continue;
            }

            var setting = All.FirstOrDefault(s => s.Flag == flag);
            if (setting is null)
            {
                errors.Add($"unknown option '{flag}' (see --help)");
            }
            else if (value is null && setting.Key == "insecureHttpApi")
            {
                values[setting.Key] = "true"; // a switch: the flag alone turns it on
            }
            else if (value is null)
            {
                errors.Add($"{flag} needs a value");
            }
            else
            {
                values[setting.Key] = value;
            }
        }

        return (values, configFile, errors, hostArgs);
    }

    public static string Help()
    {
        var sb = new StringBuilder();
        sb.AppendLine("nekko-bootserver: NekkoMetal boot server (DHCP, TFTP, HTTP boot, admin API, controllers)");
        sb.AppendLine();
        sb.AppendLine("Usage: nekko-bootserver [options]");
        sb.AppendLine();
        sb.AppendLine("Options (each also an environment variable and a key of the --config JSON file):");
        sb.AppendLine("  --config FILE".PadRight(36) + "JSON file with any of the keys below (env NEKKO_CONFIG)");
        foreach (var s in All)
        {
            sb.Append(("  " + s.Flag + " VALUE").PadRight(36)).AppendLine(s.Help);
            sb.Append(' ', 36).AppendLine(CultureInfo.InvariantCulture, $"env {s.Env}, key \"{s.Key}\"");
        }

        sb.AppendLine("  --help".PadRight(36) + "show this help");
        sb.AppendLine();
        sb.AppendLine("Precedence: flags > environment > config file > defaults.");
        return sb.ToString();
    }
}
