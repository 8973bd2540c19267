using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Heartbeat;

/// <summary>What the agent sends on each interval: its facts (first heartbeat and after a change) and the check results.</summary>
internal sealed record AgentHeartbeat(NodeFacts? Facts, HealthReport Health);

/// <summary>
/// Where heartbeats go. The boot server's agent API does not exist yet (see README.md in this folder); until it
/// does, <see cref="LogHeartbeatSink"/> writes a summary to the log.
/// </summary>
internal interface IHeartbeatSink
{
    Task SendAsync(AgentHeartbeat heartbeat, CancellationToken cancellationToken);
}
