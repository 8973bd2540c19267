using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;

namespace NekkoMetal.Inventory.Storage;

/// <summary>How inventory objects are written as JSON, in etcd and on the API.</summary>
public static class InventoryJson
{
    /// <summary>camelCase, nulls omitted, enums by name.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    public static ByteString ToBytes<T>(T value) =>
        ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(value, Options));

    public static T FromBytes<T>(ByteString bytes) =>
        JsonSerializer.Deserialize<T>(bytes.Span, Options) ?? throw new JsonException("null value in etcd");

    public static JsonElement ToElement<T>(T value) => JsonSerializer.SerializeToElement(value, Options);
}
