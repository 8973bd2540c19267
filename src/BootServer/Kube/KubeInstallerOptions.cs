using Microsoft.Extensions.Options;
using NekkoMetal.KubeInstaller;

namespace NekkoMetal.BootServer.Kube;

/// <summary>
/// Settings of the hosted Kubernetes installer, bound from the same configuration as
/// <see cref="Configuration.BootServerOptions"/> (flags in <see cref="Configuration.BootServerSettings"/>). The
/// installer runs only when <see cref="KubeSshKey"/> is set: without a key it cannot reach any node.
/// </summary>
public sealed class KubeInstallerOptions
{
    /// <summary>Private key (OpenSSH or PEM) the nodes' <see cref="KubeSshUser"/> accepts; empty = the installer is off.</summary>
    public string KubeSshKey { get; set; } = "";

    public string KubeSshUser { get; set; } = "root";

    public int KubeSshPort { get; set; } = 22;

    public double KubeConnectTimeoutSeconds { get; set; } = 10;

    public double KubeCommandTimeoutSeconds { get; set; } = 60;

    /// <summary>Pause between rounds when there was nothing to do or a round failed.</summary>
    public double KubeIntervalSeconds { get; set; } = 10;

    /// <summary>Nodes worked on at once within a batch.</summary>
    public int KubeParallelism { get; set; } = 4;

    /// <summary>How long a <c>WaitHealthy</c> step polls.</summary>
    public double KubeHealthTimeoutSeconds { get; set; } = 90;

    /// <summary>The last phase carried out: etcd-cluster, certificates, control-plane, kubelets, nodes or upgrade (all).</summary>
    public string KubeLastPhase { get; set; } = "upgrade";

    public bool Enabled => KubeSshKey.Length > 0;

    public ClusterPhase LastPhase => KubePhases.TryParse(KubeLastPhase, out var p) ? p : ClusterPhase.Upgrade;
}

/// <summary>Phase names on the command line, in the API and in status (kebab-case).</summary>
public static class KubePhases
{
    public static string ToWire(ClusterPhase phase) => phase switch
    {
        ClusterPhase.EtcdCluster => "etcd-cluster",
        ClusterPhase.Certificates => "certificates",
        ClusterPhase.ControlPlane => "control-plane",
        ClusterPhase.Kubelets => "kubelets",
        ClusterPhase.Nodes => "nodes",
        _ => "upgrade",
    };

    public static bool TryParse(string text, out ClusterPhase phase)
    {
        foreach (var p in Enum.GetValues<ClusterPhase>())
        {
            if (string.Equals(ToWire(p), text, StringComparison.OrdinalIgnoreCase))
            {
                phase = p;
                return true;
            }
        }

        phase = default;
        return false;
    }
}

/// <summary>Every problem of <see cref="KubeInstallerOptions"/> at once, at start.</summary>
public sealed class KubeInstallerOptionsValidator : IValidateOptions<KubeInstallerOptions>
{
    public ValidateOptionsResult Validate(string? name, KubeInstallerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Enabled && !File.Exists(options.KubeSshKey))
        {
            errors.Add($"kubeSshKey (--kube-ssh-key) '{options.KubeSshKey}' does not exist or cannot be read");
        }

        if (options.KubeSshUser.Length is 0 or > 32 || !options.KubeSshUser.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            errors.Add($"kubeSshUser (--kube-ssh-user) '{options.KubeSshUser}' is not a user name");
        }

        if (options.KubeSshPort is < 1 or > 65535)
        {
            errors.Add("kubeSshPort (--kube-ssh-port) must be between 1 and 65535");
        }

        if (options.KubeConnectTimeoutSeconds is < 1 or > 300)
        {
            errors.Add("kubeConnectTimeoutSeconds (--kube-connect-timeout-seconds) must be between 1 and 300");
        }

        if (options.KubeCommandTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add("kubeCommandTimeoutSeconds (--kube-command-timeout-seconds) must be between 1 and 3600");
        }

        if (options.KubeIntervalSeconds is < 1 or > 3600)
        {
            errors.Add("kubeIntervalSeconds (--kube-interval-seconds) must be between 1 and 3600");
        }

        if (options.KubeParallelism is < 1 or > 64)
        {
            errors.Add("kubeParallelism (--kube-parallelism) must be between 1 and 64");
        }

        if (options.KubeHealthTimeoutSeconds is < 5 or > 3600)
        {
            errors.Add("kubeHealthTimeoutSeconds (--kube-health-timeout-seconds) must be between 5 and 3600");
        }

        if (!KubePhases.TryParse(options.KubeLastPhase, out _))
        {
            errors.Add($"kubeLastPhase (--kube-last-phase) '{options.KubeLastPhase}' must be one of {string.Join(", ", Enum.GetValues<ClusterPhase>().Select(KubePhases.ToWire))}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
