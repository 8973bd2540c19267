using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using NekkoMetal.Pki;

namespace NekkoMetal.KubeInstaller.Execution.Probing;

/// <summary>What one node's probe found, before the cluster-wide etcd view is joined in.</summary>
public sealed record NodeProbe(
    IReadOnlyDictionary<string, string> Files,
    IReadOnlyDictionary<string, (UnitState State, DateTimeOffset? ActiveSince)> Units,
    IReadOnlyDictionary<string, ObservedCredential> Credentials,
    bool EtcdDataPresent,
    string? EtcdRunningVersion,
    string? EtcdBinaryVersion)
{
    /// <summary>Kubernetes components and containerd: their own health check and the version of the running process (else the binary).</summary>
    public IReadOnlyDictionary<ClusterComponent, ComponentProbe> Components { get; init; } = new Dictionary<ClusterComponent, ComponentProbe>();
}

/// <summary>
/// One component's health check (apiserver <c>/readyz</c>, others <c>/healthz</c>, containerd its socket) and version:
/// of the running process (<c>/proc/PID/exe --version</c>: the binary that process runs, even after a new one was written
/// over it; for the apiserver its <c>/version</c>), else of the binary on disk; null when there is none.
/// </summary>
public sealed record ComponentProbe(bool Healthy, string? Version, string? HealthDetail);

/// <summary>
/// The one shell script a probe runs on a node (one SSH round trip), and its parser. Pure: the script is rendered
/// from the managed paths and units; the output is sections (<c>#files</c>, <c>#units</c>, …) the parser reads.
/// </summary>
public static class NodeProbeScript
{
    public const string EtcdDataMarker = "/var/lib/etcd/member";

    /// <summary>Binaries and unit files of every component, and the service-account key.</summary>
    public static IReadOnlyList<string> ManagedFiles { get; } =
    [
        .. Enum.GetValues<ClusterComponent>().SelectMany(c => new[] { c.BinaryPath(), c.UnitPath() }),
        NodeConfiguration.ServiceAccountKeyPath,
    ];

    public static IReadOnlyList<string> Units { get; } = [.. Enum.GetValues<ClusterComponent>().Select(c => c.UnitName())];

    /// <summary>The components whose health and version the script checks itself (etcd's come from etcdctl and its own section).</summary>
    public static IReadOnlyList<ClusterComponent> ProbedComponents { get; } = [.. Enum.GetValues<ClusterComponent>().Where(c => c != ClusterComponent.Etcd)];

    public const string ContainerdSocket = "/run/containerd/containerd.sock";

    /// <summary>Each component's own health endpoint on the node, as its <c>WaitHealthy</c> polls it (null: containerd, its socket).</summary>
    public static string? HealthUrl(ClusterComponent component) => component switch
    {
        ClusterComponent.KubeApiserver => "https://127.0.0.1:6443/readyz",
        ClusterComponent.KubeControllerManager => "https://127.0.0.1:10257/healthz",
        ClusterComponent.KubeScheduler => "https://127.0.0.1:10259/healthz",
        ClusterComponent.Kubelet => "http://127.0.0.1:10248/healthz",
        ClusterComponent.KubeProxy => "http://127.0.0.1:10256/healthz",
        _ => null,
    };

    /// <summary>
    /// The version in a <c>--version</c> line (<c>Kubernetes v1.31.0</c>, <c>containerd github.com/containerd/containerd v1.7.0 abc</c>)
    /// or an apiserver <c>/version</c> body (<c>gitVersion</c>), without the leading <c>v</c>; null when there is none.
    /// </summary>
    public static string? ComponentVersion(string? versionLine, string? versionJson)
    {
        if (!string.IsNullOrWhiteSpace(versionJson))
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(versionJson);
                if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("gitVersion", out var v) && v.GetString() is { Length: > 1 } git)
                {
                    return git.TrimStart('v');
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // not JSON: use the --version line
            }
        }

        var token = (versionLine ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(t => t.Length > 1 && t[0] == 'v' && char.IsAsciiDigit(t[1]));
        return token?[1..];
    }

    public static string Render()
    {
        var s = new StringBuilder();
        s.Append("echo '#files'\n");
        s.Append("for f in ").Append(ShellQuoting.Join(ManagedFiles)).Append("; do [ -f \"$f\" ] && sha256sum \"$f\"; done\n");
        s.Append("echo '#units'\n");
        s.Append("for u in ").Append(ShellQuoting.Join(Units))
            .Append("; do printf '%s|' \"$u\"; systemctl show --timestamp=us+utc -p LoadState -p ActiveState -p SubState -p ActiveEnterTimestamp \"$u\" | tr '\\n' '|'; echo; done\n");
        s.Append("echo '#data'\n");
        s.Append("[ -d ").Append(EtcdDataMarker).Append(" ] && echo present\n");
        s.Append("echo '#credentials'\n");
        s.Append("for f in ").Append(NodeConfiguration.PkiDir).Append("/*.crt ").Append(NodeConfiguration.PkiDir).Append("/etcd/*.crt ")
            .Append(NodeConfiguration.KubeconfigDir).Append("/*.conf; do [ -f \"$f\" ] || continue; case \"$f\" in */ca.crt) continue;; esac; ")
            .Append("printf '%s %s ' \"$f\" \"$(stat -c %.6Y \"$f\")\"; base64 -w0 \"$f\"; echo; done\n");
        s.Append("echo '#etcd-version'\n");
        s.Append("curl -s --max-time 2 --cacert ").Append(EtcdCtl.CaFile).Append(" --cert ").Append(EtcdCtl.CertFile)
            .Append(" --key ").Append(EtcdCtl.KeyFile).Append(' ').Append(EtcdCtl.LocalEndpoint).Append("/version; echo\n");
        s.Append("echo '#etcd-binary'\n");
        s.Append("[ -x ").Append(ClusterComponent.Etcd.BinaryPath()).Append(" ] && ").Append(ClusterComponent.Etcd.BinaryPath()).Append(" --version 2>/dev/null | head -1\n");
        s.Append("echo '#components'\n");
        foreach (var component in ProbedComponents)
        {
            var unit = ShellQuoting.Quote(component.UnitName());
            var binary = ShellQuoting.Quote(component.BinaryPath());
            s.Append("pid=$(systemctl show -p MainPID --value ").Append(unit).Append(" 2>/dev/null); ");
            s.Append(component == ClusterComponent.ContainerRuntime
                ? "[ -S " + ContainerdSocket + " ] && h=200 || h=000; "
                : "h=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 " + ShellQuoting.Quote(HealthUrl(component)!) + "); ");
            s.Append("if [ -n \"$pid\" ] && [ \"$pid\" != 0 ]; then v=$(/proc/$pid/exe --version 2>/dev/null | head -1); ");
            s.Append("else v=$([ -x ").Append(binary).Append(" ] && ").Append(binary).Append(" --version 2>/dev/null | head -1); fi; ");
            s.Append(component == ClusterComponent.KubeApiserver
                ? "a=$(curl -sk --max-time 2 https://127.0.0.1:6443/version | tr -d '\\n'); "
                : "a=; ");
            s.Append("printf '%s|%s|%s|%s\\n' ").Append(component.ToWire()).Append(" \"$h\" \"$v\" \"$a\"\n");
        }

        s.Append("echo '#end'\n");
        return s.ToString();
    }

    public static NodeProbe Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var units = new Dictionary<string, (UnitState, DateTimeOffset?)>(StringComparer.Ordinal);
        var credentials = new Dictionary<string, ObservedCredential>(StringComparer.Ordinal);
        var components = new Dictionary<ClusterComponent, ComponentProbe>();
        var data = false;
        string? running = null, binary = null;
        var section = "";
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('#'))
            {
                section = line;
                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            switch (section)
            {
                case "#files":
                    {
                        var parts = line.Split("  ", 2);
                        if (parts.Length == 2)
                        {
                            files[parts[1]] = parts[0];
                        }

                        break;
                    }

                case "#units":
                    {
                        if (ParseUnit(line) is { } unit)
                        {
                            units[unit.Name] = (unit.State, unit.Since);
                        }

                        break;
                    }

                case "#data":
                    data |= line == "present";
                    break;
                case "#credentials":
                    {
                        var parts = line.Split(' ', 3);
                        if (parts.Length == 3 && ParseCredential(parts[0], parts[1], parts[2]) is { } credential)
                        {
                            credentials[parts[0]] = credential;
                        }

                        break;
                    }

                case "#components":
                    {
                        var parts = line.Split('|', 4);
                        if (parts.Length == 4 && ProbedComponents.FirstOrDefault(c => c.ToWire() == parts[0]) is var component
                            && component.ToWire() == parts[0])
                        {
                            components[component] = new ComponentProbe(parts[1] == "200", ComponentVersion(parts[2], parts[3]), parts[1]);
                        }

                        break;
                    }

                case "#etcd-version":
                    running = EtcdServerVersion(line) ?? running;
                    break;
                case "#etcd-binary":
                    if (line.StartsWith("etcd Version:", StringComparison.Ordinal))
                    {
                        binary = line["etcd Version:".Length..].Trim();
                    }

                    break;
            }
        }

        return new NodeProbe(files, units, credentials, data, running, binary) { Components = components };
    }

    /// <summary><c>etcd.service|LoadState=loaded|ActiveState=active|SubState=running|ActiveEnterTimestamp=…|</c>; null when not installed.</summary>
    internal static (string Name, UnitState State, DateTimeOffset? Since)? ParseUnit(string line)
    {
        var parts = line.Split('|', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return null;
        }

        var props = parts.Skip(1).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (props.GetValueOrDefault("LoadState") is not "loaded")
        {
            return null;
        }

        var state = (props.GetValueOrDefault("ActiveState"), props.GetValueOrDefault("SubState")) switch
        {
            ("active", _) or ("reloading", _) => UnitState.Active,
            ("failed", _) => UnitState.Failed,
            ("activating", "auto-restart") => UnitState.Failed, // crash loop under Restart=always
            ("activating", _) => UnitState.Active,
            _ => UnitState.Inactive,
        };
        return (parts[0], state, ParseTimestamp(props.GetValueOrDefault("ActiveEnterTimestamp")));
    }

    /// <summary><c>Wed 2026-11-25 12:00:00.123456 UTC</c> (systemctl <c>--timestamp=us+utc</c>).</summary>
    internal static DateTimeOffset? ParseTimestamp(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value == "n/a")
        {
            return null;
        }

        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 3 && DateTimeOffset.TryParseExact($"{parts[1]} {parts[2]}", ["yyyy-MM-dd HH:mm:ss.ffffff", "yyyy-MM-dd HH:mm:ss"],
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }

        return null;
    }

    private static ObservedCredential? ParseCredential(string path, string mtime, string base64)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            DateTimeOffset? modified = double.TryParse(mtime, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond))
                : null;
            string? server = null;
            string pem = text;
            if (path.EndsWith(".conf", StringComparison.Ordinal))
            {
                server = YamlValue(text, "server:");
                pem = YamlValue(text, "client-certificate-data:") is { } data ? Encoding.ASCII.GetString(Convert.FromBase64String(data)) : "";
            }

            using var cert = X509Certificate2.CreateFromPem(pem);
            var sans = CertificateChecks.SubjectAlternativeNames(cert);
            return new ObservedCredential(cert.NotBefore.ToUniversalTime(), cert.NotAfter.ToUniversalTime(),
                [.. sans.Dns, .. sans.Ips.Select(ip => ip.ToString())], server)
            { ModifiedAt = modified };
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return null; // unreadable: the planner issues it again
        }
    }

    private static string? YamlValue(string yaml, string key) =>
        yaml.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line
            ? line[key.Length..].Trim().Trim('"')
            : null;

    private static string? EtcdServerVersion(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("etcdserver", out var v) ? v.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
