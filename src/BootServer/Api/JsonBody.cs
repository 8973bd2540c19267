using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Api;

/// <summary>
/// Reads request bodies strictly: JSON content type, well-formed, no unknown fields, values of the right type.
/// Every failure is a <see cref="ValidationException"/> naming the field (JSON path), so the client gets a 400
/// problem and nothing is written. Oversize bodies are stopped by Kestrel's limit (413).
/// </summary>
public static class JsonBody
{
    public static readonly JsonSerializerOptions Strict = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        var o = new JsonSerializerOptions(InventoryJson.Options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            MaxDepth = 16,
        };
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    public static async Task<JsonElement> ReadElementAsync(HttpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !type.Contains("+json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ValidationException("$", "the body must be JSON (Content-Type: application/json)");
        }

        // Kestrel enforces the limit too; this keeps it under any server (and tells the client the limit).
        var max = request.HttpContext.RequestServices.GetRequiredService<IOptions<BootServerOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > max)
        {
            throw new BadHttpRequestException($"the body is larger than the limit of {max} bytes", StatusCodes.Status413PayloadTooLarge);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new BadHttpRequestException($"the body is larger than the limit of {max} bytes", StatusCodes.Status413PayloadTooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            using var doc = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 16 });
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ValidationException("$", $"the body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
    }

    public static T Convert<T>(JsonElement element, string pathPrefix = "")
    {
        try
        {
            return element.Deserialize<T>(Strict) ?? throw new ValidationException(Field(pathPrefix, "$"), "must not be null");
        }
        catch (JsonException e)
        {
            var path = Field(pathPrefix, e.Path ?? "$");
            var message = e.Message.StartsWith("The JSON property", StringComparison.Ordinal)
                ? "is not a known field"
                : "has a value of the wrong type or format";
            if (e.Message.Contains("could not be mapped", StringComparison.Ordinal) && UnknownProperty(e.Message) is { } name &&
                !path.EndsWith(name, StringComparison.Ordinal))
            {
                path = path == "$" || path.Length == 0 ? name : $"{path}.{name}";
            }

            throw new ValidationException(path, message);
        }
    }

    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken ct) =>
        Convert<T>(await ReadElementAsync(request, ct));

    private static string Field(string prefix, string jsonPath)
    {
        var p = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.StartsWith('$') ? jsonPath[1..] : jsonPath;
        return prefix.Length == 0 ? (p.Length == 0 ? "$" : p) : p.Length == 0 ? prefix : p.StartsWith('[') ? prefix + p : $"{prefix}.{p}";
    }

    /// <summary>The name of an unknown property from System.Text.Json's message (it is the client's field name, not its data).</summary>
    private static string? UnknownProperty(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        if (start < 0 || end <= start + 1 || end - start > 65)
        {
            return null;
        }

        var name = message[(start + 1)..end];
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? name : null;
    }
}
