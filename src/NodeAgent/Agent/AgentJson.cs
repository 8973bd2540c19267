using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>JSON of facts and health reports (source-generated: no reflection, so the agent can be published as Native AOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(NodeFacts))]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class AgentJson : JsonSerializerContext
{
    /// <summary>For a terminal: apostrophes, "≥" and "°C" in messages printed as they are rather than as \u escapes.</summary>
    public static AgentJson Printed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
