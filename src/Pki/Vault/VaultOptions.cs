namespace NekkoMetal.Pki.Vault;

/// <summary>How NekkoMetal authenticates to Vault.</summary>
public enum VaultAuthMethod
{
    /// <summary>A token given in the options or read from a file (e.g. written by Vault Agent).</summary>
    Token,

    /// <summary>AppRole: <c>auth/{mount}/login</c> with a role id and a secret id; logs in again when the token dies.</summary>
    AppRole,
}

/// <summary>Which PKI mount and role issue for one <see cref="CaKind"/>.</summary>
public sealed record VaultCaBinding
{
    /// <summary>Mount path of the PKI secrets engine, e.g. <c>pki</c> or <c>pki_int/agents</c>.</summary>
    public required string Mount { get; init; }

    /// <summary>Role used for every usage unless a usage-specific role is set.</summary>
    public required string Role { get; init; }

    /// <summary>Role for server certificates (Vault roles carry server_flag/client_flag).</summary>
    public string? ServerRole { get; init; }

    public string? ClientRole { get; init; }

    public string? ServerAndClientRole { get; init; }

    public string RoleFor(CertificateUsage usage) => usage switch
    {
        CertificateUsage.Server => ServerRole ?? Role,
        CertificateUsage.Client => ClientRole ?? Role,
        _ => ServerAndClientRole ?? Role,
    };
}

/// <summary>Vault's address, credentials and the PKI mounts per CA.</summary>
public sealed record VaultOptions
{
    /// <summary>Vault's base address, e.g. <c>https://vault.lab:8200</c> (the <c>/v1/</c> API prefix is added).</summary>
    public required Uri Address { get; init; }

    /// <summary>Enterprise namespace (X-Vault-Namespace), if any.</summary>
    public string? Namespace { get; init; }

    /// <summary>PEM file of the CA that signed Vault's own TLS certificate; null: the system trust store.</summary>
    public string? CaCertificateFile { get; init; }

    public VaultAuthMethod Auth { get; init; } = VaultAuthMethod.Token;

    /// <summary>A token (Auth = Token). Never logged.</summary>
    public string? Token { get; init; }

    /// <summary>A file holding the token (Auth = Token); read again when Vault refuses the token it had.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Mount of the AppRole auth method.</summary>
    public string AppRoleMount { get; init; } = "approle";

    public string? RoleId { get; init; }

    /// <summary>The AppRole secret id. Never logged.</summary>
    public string? SecretId { get; init; }

    /// <summary>A file holding the secret id, instead of <see cref="SecretId"/>.</summary>
    public string? SecretIdFile { get; init; }

    /// <summary>Mount and role per CA; the defaults are one mount per CA with a role named <c>nekko</c>.</summary>
    public IReadOnlyDictionary<CaKind, VaultCaBinding> Cas { get; init; } = new Dictionary<CaKind, VaultCaBinding>
    {
        [CaKind.BootServerHttps] = new() { Mount = "nekko-https", Role = "nekko" },
        [CaKind.AgentClient] = new() { Mount = "nekko-agents", Role = "nekko" },
        [CaKind.Kubernetes] = new() { Mount = "nekko-kubernetes", Role = "nekko" },
        [CaKind.KubernetesEtcd] = new() { Mount = "nekko-kubernetes-etcd", Role = "nekko" },
    };

    /// <summary>Deadline of one HTTP request to Vault.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts of one call when Vault fails transiently (5xx other than sealed, 429, network errors).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First retry delay; doubled per attempt, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Increment asked for on <c>auth/token/renew-self</c>; null: the token's own TTL.</summary>
    public TimeSpan? TokenRenewIncrement { get; init; }

    public VaultCaBinding BindingFor(CaKind ca) =>
        Cas.TryGetValue(ca, out var b) ? b : throw new PkiConfigurationException($"vault: no PKI mount configured for the {ca.ToWire()} CA");

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Address.IsAbsoluteUri || (Address.Scheme != Uri.UriSchemeHttps && Address.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add("the address must be an absolute http(s) URL");
        }

        switch (Auth)
        {
            case VaultAuthMethod.Token when string.IsNullOrEmpty(Token) == string.IsNullOrEmpty(TokenFile):
                errors.Add("token auth needs exactly one of a token and a token file");
                break;
            case VaultAuthMethod.AppRole:
                if (string.IsNullOrEmpty(RoleId))
                {
                    errors.Add("AppRole auth needs a role id");
                }

                if (string.IsNullOrEmpty(SecretId) == string.IsNullOrEmpty(SecretIdFile))
                {
                    errors.Add("AppRole auth needs exactly one of a secret id and a secret id file");
                }

                if (!IsPath(AppRoleMount))
                {
                    errors.Add("the AppRole mount must be a path like 'approle'");
                }

                break;
        }

        foreach (var ca in CaKinds.All)
        {
            if (!Cas.TryGetValue(ca, out var b))
            {
                errors.Add($"no PKI mount for the {ca.ToWire()} CA");
                continue;
            }

            if (!IsPath(b.Mount))
            {
                errors.Add($"{ca.ToWire()}: mount '{b.Mount}' is not a path like 'pki' or 'pki/int'");
            }

            foreach (var role in new[] { b.Role, b.ServerRole, b.ClientRole, b.ServerAndClientRole }.OfType<string>())
            {
                if (!IsSegment(role))
                {
                    errors.Add($"{ca.ToWire()}: role '{role}' is not a plain name");
                }
            }
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("the request timeout must be positive");
        }

        if (MaxAttempts < 1)
        {
            errors.Add("at least one attempt");
        }

        if (RetryBaseDelay < TimeSpan.Zero)
        {
            errors.Add("the retry delay must not be negative");
        }

        return errors;
    }

    private static bool IsPath(string path) =>
        !string.IsNullOrEmpty(path) && path.Split('/').All(IsSegment);

    private static bool IsSegment(string s) =>
        s.Length is > 0 and <= 128 && s != "." && s != ".." && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
