using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>JSON as nekkoctl writes it: request bodies compact, <c>-o json</c> output indented; non-ASCII kept readable.</summary>
internal static class JsonOutput
{
    // Relaxed escaping keeps labels and reasons in any script readable; control characters are still escaped.
    public static readonly JsonSerializerOptions CompactOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonSerializerOptions IndentedOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    public static void Write(TextWriter writer, JsonNode? node)
    {
        if (node is not null)
        {
            writer.WriteLine(node.ToJsonString(IndentedOptions));
        }
    }
}
