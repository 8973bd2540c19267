using System.Text;

namespace NekkoMetal.Pki.BuiltIn;

/// <summary>A secret sealed with AES-256-GCM under the boot servers' key-encryption key (<see cref="KekId"/>).</summary>
public sealed record SealedSecret(string KekId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>
/// Seals secrets other than CA keys (the Kubernetes service-account key) the way the built-in CA seals its keys:
/// AES-256-GCM under the key-encryption key file of the data directory (<see cref="PkiOptions.KeyEncryptionKeyPath"/>,
/// 0600, never in etcd), with associated data naming what the secret is, so a sealed value cannot be moved to
/// another record unnoticed. With the built-in CA the file exists from the first start; with Vault it is created
/// on first use and must then be copied to the other boot servers like the built-in CA's (a wrong file is refused
/// by id before anything is decrypted).
/// </summary>
public sealed class SecretSealer(PkiOptions options)
{
    public SealedSecret Seal(ReadOnlySpan<byte> plaintext, string purpose)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var kek = KeyEncryptionKey.TryLoad(options.KeyEncryptionKeyPath) ?? KeyEncryptionKey.LoadOrCreate(options.KeyEncryptionKeyPath).Key;
        var sealedKey = kek.Seal(plaintext, AssociatedData(purpose, kek.Id));
        return new SealedSecret(kek.Id, sealedKey.Nonce, sealedKey.Ciphertext, sealedKey.Tag);
    }

    /// <summary>Opens <paramref name="secret"/>; a different KEK file or altered data is a <see cref="KeyEncryptionKeyException"/>.</summary>
    public byte[] Open(SealedSecret secret, string purpose)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var path = options.KeyEncryptionKeyPath;
        using var kek = KeyEncryptionKey.TryLoad(path)
            ?? throw new KeyEncryptionKeyException($"{purpose}: sealed with key-encryption key id {secret.KekId}, but {path} does not exist: copy it from another boot server");
        if (kek.Id != secret.KekId)
        {
            throw new KeyEncryptionKeyException($"{purpose}: sealed with key-encryption key id {secret.KekId}, but {path} has id {kek.Id}: copy the KEK file from a boot server of this cluster");
        }

        return kek.Open(new SealedKey(secret.Nonce, secret.Ciphertext, secret.Tag), AssociatedData(purpose, kek.Id), purpose);
    }

    private static byte[] AssociatedData(string purpose, string kekId) => Encoding.UTF8.GetBytes($"nekkometal/sealed-secret/v1/{purpose}/{kekId}");
}
