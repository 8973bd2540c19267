using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Pki;
using NekkoMetal.Pki.Vault;

namespace NekkoMetal.BootServer.Tls;

/// <summary>The <c>--vault-*</c> settings as the PKI library's <see cref="VaultOptions"/> (null: the built-in CA).</summary>
public static class VaultSettings
{
    /// <summary>Every problem of the Vault settings, worded with their flags; empty when usable or unused.</summary>
    public static IReadOnlyList<string> Validate(BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.VaultAddress.Length == 0)
        {
            return [];
        }

        var errors = new List<string>();
        if (!Uri.TryCreate(options.VaultAddress, UriKind.Absolute, out _))
        {
            errors.Add($"vaultAddress (--vault-address) must be an absolute http(s) URL, got '{options.VaultAddress}'");
            return errors;
        }

        if (options.VaultAuth is not ("token" or "approle"))
        {
            errors.Add($"vaultAuth (--vault-auth) must be token or approle, got '{options.VaultAuth}'");
            return errors;
        }

        foreach (var pair in HttpsCertificateNames.Split(options.VaultMounts))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !CaKinds.TryParse(pair[..eq].Trim(), out _))
            {
                errors.Add($"vaultMounts (--vault-mounts): '{pair}' is not CA=MOUNT with CA one of {string.Join(", ", CaKinds.All.Select(k => k.ToWire()))}");
            }
        }

        if (errors.Count == 0)
        {
            errors.AddRange(ToVaultOptions(options)!.Validate().Select(e => "vault (--vault-*): " + e));
        }

        return errors;
    }

    public static VaultOptions? ToVaultOptions(BootServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.VaultAddress.Length == 0)
        {
            return null;
        }

        var mounts = new Dictionary<CaKind, string>();
        foreach (var pair in HttpsCertificateNames.Split(options.VaultMounts).Select(p => p.Split('=', 2)))
        {
            if (pair.Length == 2 && CaKinds.TryParse(pair[0].Trim(), out var kind))
            {
                mounts[kind] = pair[1].Trim();
            }
        }

        var defaults = new VaultOptions { Address = new Uri("http://vault") }.Cas;
        return new VaultOptions
        {
            Address = new Uri(options.VaultAddress),
            Namespace = Empty(options.VaultNamespace),
            CaCertificateFile = Empty(options.VaultCaFile),
            Auth = options.VaultAuth == "approle" ? VaultAuthMethod.AppRole : VaultAuthMethod.Token,
            Token = Empty(options.VaultToken),
            TokenFile = Empty(options.VaultTokenFile),
            AppRoleMount = options.VaultAppRoleMount,
            RoleId = Empty(options.VaultRoleId),
            SecretId = Empty(options.VaultSecretId),
            SecretIdFile = Empty(options.VaultSecretIdFile),
            Cas = CaKinds.All.ToDictionary(
                k => k,
                k => new VaultCaBinding { Mount = mounts.TryGetValue(k, out var m) ? m : defaults[k].Mount, Role = options.VaultRole }),
        };
    }

    private static string? Empty(string s) => s.Length == 0 ? null : s;
}
