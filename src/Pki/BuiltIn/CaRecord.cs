using System.Text.Json;
using System.Text.Json.Serialization;

namespace NekkoMetal.Pki.BuiltIn;

/// <summary>
/// One built-in CA in etcd (<c>pki/ca/{kind}</c>). The private key is PKCS#8 DER sealed with AES-256-GCM under the
/// KEK <see cref="KekId"/>; the associated data binds it to the kind, the KEK id and the certificate, so a key
/// cannot be moved to another record unnoticed.
/// </summary>
internal sealed record CaRecord
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required string Kind { get; init; }

    /// <summary>The root certificate, PEM.</summary>
    public required string Certificate { get; init; }

    public required string KekId { get; init; }

    /// <summary>"ecdsa-p256".</summary>
    public required string KeyAlgorithm { get; init; }

    public required byte[] KeyNonce { get; init; }

    public required byte[] KeyCiphertext { get; init; }

    public required byte[] KeyTag { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public string AssociatedData(byte[] certificateHash) =>
        $"nekkometal/pki/ca-key/v{Version}/{Kind}/{KekId}/{Convert.ToHexStringLower(certificateHash)}";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false)]
[JsonSerializable(typeof(CaRecord))]
internal sealed partial class PkiJson : JsonSerializerContext;
