using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>
/// Settings of the agent, configuration section <c>agent</c> (camelCase keys: <c>bootServers</c>, <c>interval</c>,
/// <c>checksDirectory</c>, <c>thresholds:*</c>), from /etc/nekko/agent.json, NEKKO_AGENT_ environment variables
/// (<c>NEKKO_AGENT_agent__interval=00:00:10</c>) and <c>--agent:key=value</c> arguments.
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "agent";

    /// <summary>Boot servers' base URLs (https://host:port), tried in order for heartbeats; none: heartbeats go to the log only.</summary>
    public IList<string> BootServers { get; set; } = [];

    /// <summary>How often the checks run and a heartbeat is sent.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>User check scripts (Nagios exit codes); a missing directory means no scripts.</summary>
    public string ChecksDirectory { get; set; } = "/etc/nekko/checks.d";

    /// <summary>A script still running after this is killed and reported unknown.</summary>
    public TimeSpan ScriptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The kubelet's health endpoint (its healthzPort, 10248 by default, on loopback).</summary>
    public string KubeletHealthzUrl { get; set; } = "http://127.0.0.1:10248/healthz";

    /// <summary>Timeout of the kubelet health request.</summary>
    public TimeSpan KubeletTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where /sys, /proc and /etc are read from: "/" on a node; a fixture tree to replay a captured machine.</summary>
    public string HostRoot { get; set; } = "/";

    /// <summary>The machine's serial in the inventory; default: the SMBIOS serial from the facts (set it on machines without one).</summary>
    public string? Serial { get; set; }

    /// <summary>
    /// The machine's single-use agent bootstrap token (its rendered configuration writes it): traded once, with a CSR,
    /// for the client certificate every later call uses (mTLS).
    /// </summary>
    public string TokenFile { get; set; } = "/etc/nekko/agent.token";

    /// <summary>Where the agent keeps its key and client certificate (<c>agent.pem</c>, mode 0600).</summary>
    public string StateDirectory { get; set; } = "/var/lib/nekko-agent";

    /// <summary>The boot servers' CA bundle (PEM) to trust for HTTPS, and nothing else; unset: the system's roots.</summary>
    public string? CaFile { get; set; }

    /// <summary>Timeout of one heartbeat request to one boot server.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks whose failure (critical or unknown) makes the machine unhealthy after the server's grace; "script:*" for every user script.</summary>
    /// <remarks>Null until configured (the configuration binder appends to a list it finds, so defaults live in <see cref="EffectiveCriticalChecks"/>).</remarks>
    public IList<string>? CriticalChecks { get; set; }

    /// <summary>The critical checks configured, or by default <c>filesystem</c>, <c>disk-smart</c>, <c>disk-kernel-log</c>, <c>kubelet</c>.</summary>
    public IReadOnlyList<string> EffectiveCriticalChecks => CriticalChecks is { } configured ? [.. configured] : ["filesystem", "disk-smart", "disk-kernel-log", "kubelet"];

    public HealthThresholds Thresholds { get; set; } = new();

    /// <summary>Whether the agent carries out what the boot servers ask in a heartbeat's answer (reboot, power-off).</summary>
    public bool AllowActions { get; set; } = true;

    /// <summary>The command of a reboot (program and arguments).</summary>
    /// <remarks>Replaced as a whole when configured (the binder would append to an initialised list, so the default lives in the getter).</remarks>
    public IList<string> RebootCommand
    {
        get => _rebootCommand ?? ["systemctl", "reboot"];
        set => _rebootCommand = value;
    }

    /// <summary>The command of a power-off (program and arguments).</summary>
    public IList<string> PowerOffCommand
    {
        get => _powerOffCommand ?? ["systemctl", "poweroff"];
        set => _powerOffCommand = value;
    }

    private IList<string>? _rebootCommand;
    private IList<string>? _powerOffCommand;
}
