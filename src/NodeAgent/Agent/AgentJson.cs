using System.Text.Json;
using System.Text.Json.Serialization;
using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>JSON of facts and health reports (source-generated: no reflection, so the agent can be published as Native AOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(NodeFacts))]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class AgentJson : JsonSerializerContext;
