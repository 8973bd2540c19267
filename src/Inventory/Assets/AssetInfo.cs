using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Assets;

/// <summary>
/// An asset as stored under <c>assets/{name}</c>: a named, immutable blob whose content lives on the boot servers'
/// disks under <c>DATA_DIR/assets/sha256/{sha256}</c>. The key exists only once the content is complete and verified.
/// <see cref="Revision"/> is etcd's mod_revision of the key: not stored, filled on read, used for compare-and-swap.
/// </summary>
public sealed record AssetInfo
{
    public required string Name { get; init; }

    /// <summary>Lowercase hex SHA-256 of the content: its address on disk and its HTTP ETag.</summary>
    public required string Sha256 { get; init; }

    public required long Size { get; init; }
    public required string ContentType { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? UploadedBy { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Revision { get; init; }
}
