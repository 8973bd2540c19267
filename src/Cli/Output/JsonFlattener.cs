using System.Globalization;
using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>
/// Flattens any JSON document into <c>a.b.c = value</c> pairs, in document order, so fields the server adds
/// later show up in <c>machines get</c> without a CLI change. Arrays of scalars become <c>a,b,c</c>; arrays
/// holding objects or arrays get indexed keys (<c>disks[0].size</c>). Null and empty containers show as <c>&lt;none&gt;</c>.
/// </summary>
internal static class JsonFlattener
{
    public static IReadOnlyList<KeyValuePair<string, string>> Flatten(JsonNode? node)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Flatten(node, prefix: "", pairs);
        return pairs;
    }

    public static void Write(TextWriter writer, JsonNode? node)
    {
        foreach (var (key, value) in Flatten(node))
        {
            writer.WriteLine($"{TerminalText.Clean(key)} = {TerminalText.Clean(value)}");
        }
    }

    private static void Flatten(JsonNode? node, string prefix, List<KeyValuePair<string, string>> pairs)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count > 0:
                foreach (var (name, value) in obj)
                {
                    Flatten(value, prefix.Length == 0 ? name : $"{prefix}.{name}", pairs);
                }

                break;
            case JsonArray array when array.Count > 0 && array.Any(item => item is JsonObject or JsonArray):
                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], string.Create(CultureInfo.InvariantCulture, $"{prefix}[{i}]"), pairs);
                }

                break;
            case JsonObject:
                pairs.Add(new(prefix, JsonText.None));
                break;
            case JsonArray array:
                pairs.Add(new(prefix, JsonText.List(array)));
                break;
            default:
                pairs.Add(new(prefix, JsonText.Scalar(node)));
                break;
        }
    }
}
