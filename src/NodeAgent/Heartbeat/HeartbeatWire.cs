using System.Text.Json;
using System.Text.Json.Serialization;
using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Heartbeat;

/// <summary>
/// The body of <c>POST /api/v1/agent/heartbeat</c> (docs/agent-api.md; the boot server's copy is
/// <c>NekkoMetal.Inventory.Health.Heartbeat</c> — the agent does not reference the inventory, so the shape is kept
/// in both places and in the document, and a test pins the JSON).
/// </summary>
internal sealed record HeartbeatBody(string Serial, DateTimeOffset Timestamp, IReadOnlyList<HeartbeatCheck> Checks);

/// <summary>One check in a heartbeat: <c>critical</c> marks the checks whose failure makes the machine unhealthy.</summary>
internal sealed record HeartbeatCheck(string Name, CheckStatus Status, string? Message, bool Critical);

/// <summary>The answer to a heartbeat: what the agent needs of it (unknown members are ignored).</summary>
/// <param name="State">The machine's lifecycle state.</param>
/// <param name="Action">An action to carry out now (<c>reboot</c>, <c>power-off</c>), handed out once; null for none.</param>
internal sealed record HeartbeatAnswer(string? State, string? Action);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HeartbeatBody))]
[JsonSerializable(typeof(HeartbeatAnswer))]
internal sealed partial class HeartbeatJson : JsonSerializerContext;
