using NekkoMetal.Pki.Vault;

namespace NekkoMetal.Pki;

/// <summary>
/// Where certificates come from and how they are kept. With <see cref="Vault"/> unset, the built-in CA issues;
/// its key-encryption key is <see cref="KeyEncryptionKeyPath"/>.
/// </summary>
public sealed record PkiOptions
{
    /// <summary>The boot server's data directory; the built-in CA's key-encryption key file lives here.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>File name of the key-encryption key (32 random bytes, mode 0600) inside <see cref="DataDirectory"/>.</summary>
    public string KeyEncryptionKeyFileName { get; init; } = "pki-kek";

    public string KeyEncryptionKeyPath =>
        Path.Combine(DataDirectory ?? throw new PkiConfigurationException("PKI: no data directory for the key-encryption key"), KeyEncryptionKeyFileName);

    /// <summary>Validity of a built-in root CA generated on first start.</summary>
    public TimeSpan CaLifetime { get; init; } = TimeSpan.FromDays(3650);

    /// <summary>How far NotBefore is set in the past against clock skew between machines (Vault's not_before_duration).</summary>
    public TimeSpan Backdate { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Vault's PKI secrets engine; null: the built-in CA.</summary>
    public VaultOptions? Vault { get; init; }

    /// <summary>How often the renewal job looks for certificates past two thirds of their lifetime.</summary>
    public TimeSpan RenewalCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public bool UsesVault => Vault is not null;

    /// <summary>Every problem at once; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Vault is null)
        {
            if (string.IsNullOrWhiteSpace(DataDirectory))
            {
                errors.Add("the built-in CA needs a data directory for its key-encryption key");
            }

            if (string.IsNullOrWhiteSpace(KeyEncryptionKeyFileName) || KeyEncryptionKeyFileName.IndexOfAny(['/', '\\']) >= 0)
            {
                errors.Add("the key-encryption key file name must be a plain file name");
            }

            if (CaLifetime < TimeSpan.FromDays(1))
            {
                errors.Add("the CA lifetime must be at least a day");
            }
        }
        else
        {
            errors.AddRange(Vault.Validate().Select(e => "vault: " + e));
        }

        if (Backdate < TimeSpan.Zero || Backdate > TimeSpan.FromHours(1))
        {
            errors.Add("the backdate must be between 0 and 1 hour");
        }

        if (RenewalCheckInterval <= TimeSpan.Zero)
        {
            errors.Add("the renewal check interval must be positive");
        }

        return errors;
    }

    /// <summary>Throws <see cref="PkiConfigurationException"/> listing every problem.</summary>
    public PkiOptions EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new PkiConfigurationException("invalid PKI options: " + string.Join("; ", errors));
    }
}
