using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Tokens;

[JsonConverter(typeof(JsonStringEnumConverter<TokenRole>))]
public enum TokenRole
{
    /// <summary>Reads everything.</summary>
    [JsonStringEnumMemberName("viewer")] Viewer,

    /// <summary>Reads and changes everything.</summary>
    [JsonStringEnumMemberName("admin")] Admin,
}

/// <summary>An API bearer token as stored: only the SHA-256 of the secret is kept.</summary>
public sealed record ApiToken
{
    public required string Name { get; init; }
    public required TokenRole Role { get; init; }

    [JsonPropertyName("sha256")]
    public required string Sha256 { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>A new secret: 32 random bytes, base64url, with a recognisable prefix (so secret scanners find leaked ones).</summary>
    public static string NewSecret() => "nekko_" + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
