using System.Net;
using System.Text;
using System.Text.Json;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The API tests' two helpers: a JSON body, and "this status, else fail with the body" giving the parsed answer.</summary>
internal static class HttpExpect
{
    public static StringContent JsonOf(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static async Task<JsonElement> Expect(HttpResponseMessage r, HttpStatusCode expected)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"expected {(int)expected}, got {(int)r.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }
}
