using System.Security.Cryptography;
using System.Text;

namespace NekkoMetal.Pki.BuiltIn;

/// <summary>
/// The built-in CA's key-encryption key (KEK): 32 random bytes in a file of the boot server's data directory,
/// mode 0600, never in etcd. CA private keys are stored in etcd sealed under it with AES-256-GCM; every boot server
/// of a cluster holds a copy of the same file. Its <see cref="Id"/> (an HMAC of a fixed label, revealing nothing
/// of the key) is stored beside the sealed keys so a wrong file is recognised before anything is decrypted.
/// </summary>
internal sealed class KeyEncryptionKey : IDisposable
{
    public const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] IdLabel = Encoding.ASCII.GetBytes("NekkoMetal PKI key-encryption key id v1");

    private readonly byte[] _key;

    private KeyEncryptionKey(byte[] key, string path)
    {
        _key = key;
        Path = path;
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(key, IdLabel).AsSpan(0, 16));
    }

    /// <summary>Where the key was read from or written to.</summary>
    public string Path { get; }

    /// <summary>Public fingerprint of the key (32 hex digits).</summary>
    public string Id { get; }

    /// <summary>True when the group or others may read the file (it should be 0600).</summary>
    public bool HasLoosePermissions { get; private init; }

    /// <summary>Reads the key at <paramref name="path"/>; null when there is no file.</summary>
    public static KeyEncryptionKey? TryLoad(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KeyEncryptionKeyException($"the PKI key-encryption key {path} cannot be read: {e.Message}", e);
        }

        if (bytes.Length != KeyBytes)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new KeyEncryptionKeyException(
                $"the PKI key-encryption key {path} holds {bytes.Length} bytes, not {KeyBytes}: it is not a NekkoMetal KEK (restore the file from another boot server)");
        }

        var loose = !OperatingSystem.IsWindows() &&
            (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
        return new KeyEncryptionKey(bytes, path) { HasLoosePermissions = loose };
    }

    /// <summary>
    /// Creates a new random key at <paramref name="path"/> (mode 0600) unless a file is there already, in which case
    /// that file is loaded: two processes starting at once end with the same key, and an existing key is never
    /// overwritten. Returns the key and whether this call created it.
    /// </summary>
    public static (KeyEncryptionKey Key, bool Created) LoadOrCreate(string path)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var f = new FileStream(tmp, options))
            {
                f.Write(key);
                f.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(tmp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // another process made one first: use that one
                CryptographicOperations.ZeroMemory(key);
                return (TryLoad(path) ?? throw new KeyEncryptionKeyException($"the PKI key-encryption key {path} vanished while starting"), false);
            }

            return (new KeyEncryptionKey(key, path), true);
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>Seals <paramref name="plaintext"/>; <paramref name="associatedData"/> binds it to its record.</summary>
    public SealedKey Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagBytes];
        using var gcm = new AesGcm(_key, TagBytes);
        gcm.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        return new SealedKey(nonce, ciphertext, tag);
    }

    /// <summary>Opens a sealed key; a wrong key or altered data is a <see cref="KeyEncryptionKeyException"/>.</summary>
    public byte[] Open(SealedKey sealedKey, ReadOnlySpan<byte> associatedData, string what)
    {
        if (sealedKey.Nonce.Length != NonceBytes || sealedKey.Tag.Length != TagBytes)
        {
            throw new KeyEncryptionKeyException($"{what}: the sealed key in etcd is malformed");
        }

        var plaintext = new byte[sealedKey.Ciphertext.Length];
        try
        {
            using var gcm = new AesGcm(_key, TagBytes);
            gcm.Decrypt(sealedKey.Nonce, sealedKey.Ciphertext, sealedKey.Tag, plaintext, associatedData);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new KeyEncryptionKeyException(
                $"{what}: the key-encryption key {Path} (id {Id}) does not open the CA key stored in etcd: wrong KEK file, or the record was altered", e);
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}

/// <summary>AES-GCM output: 12-byte nonce, ciphertext, 16-byte tag.</summary>
internal sealed record SealedKey(byte[] Nonce, byte[] Ciphertext, byte[] Tag);
