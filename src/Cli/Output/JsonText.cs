using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>Turns JSON values into table cells.</summary>
internal static class JsonText
{
    /// <summary>What a table shows for null, a missing member or an empty list.</summary>
    public const string None = "<none>";

    /// <summary>A string as itself, other scalars as JSON text, null as <see cref="None"/>; objects and arrays as compact JSON.</summary>
    public static string Scalar(JsonNode? node) => node switch
    {
        null => None,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(JsonOutput.CompactOptions),
    };

    /// <summary>An array of scalars as <c>a,b,c</c>; an empty or missing array as <see cref="None"/>.</summary>
    public static string List(JsonNode? node)
    {
        if (node is not JsonArray array)
        {
            return Scalar(node);
        }

        return array.Count == 0 ? None : string.Join(',', array.Select(Scalar));
    }

    /// <summary>A string-to-string object as <c>k=v,k2=v2</c>, sorted by key so output is stable.</summary>
    public static string Labels(JsonNode? node)
    {
        if (node is not JsonObject labels)
        {
            return Scalar(node);
        }

        if (labels.Count == 0)
        {
            return None;
        }

        return string.Join(',', labels
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => $"{pair.Key}={Scalar(pair.Value)}"));
    }

    /// <summary>An ISO 8601 timestamp in UTC to the second (<c>2026-01-02T03:04:05Z</c>); anything else as is.</summary>
    public static string Time(JsonNode? node)
    {
        var text = Scalar(node);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;
    }

    /// <summary>The string member <paramref name="name"/> of <paramref name="node"/>, or <c>null</c>.</summary>
    public static string? String(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
