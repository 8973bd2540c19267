using System.Text.RegularExpressions;

namespace NekkoMetal.Inventory.Assets;

/// <summary>
/// Asset names and content hashes. A name is 1–128 characters of <c>[A-Za-z0-9._-]</c> starting with a letter or
/// digit: never a path (no '/', '\', no "." or ".." segment, not absolute), so it can be a key and a URL segment as is.
/// </summary>
public static partial class AssetName
{
    public const int MaxLength = 128;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();

    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Throws <see cref="ValidationException"/> (field <c>name</c>) unless <paramref name="name"/> is valid.</summary>
    public static void Check(string? name)
    {
        if (!IsValid(name))
        {
            throw new ValidationException("name", $"must be 1-{MaxLength} letters, digits, '.', '_' or '-', starting with a letter or digit (no paths)");
        }
    }

    /// <summary>True for 64 lowercase hex digits.</summary>
    public static bool IsSha256(string? hex) => hex is not null && Sha256Pattern().IsMatch(hex);
}
