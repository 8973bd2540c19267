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

    /// <summary>Boot servers' base URLs (https://host:port), tried in order for heartbeats (the heartbeat client is not built yet).</summary>
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

    public HealthThresholds Thresholds { get; set; } = new();
}
