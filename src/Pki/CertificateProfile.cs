using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace NekkoMetal.Pki;

/// <summary>What a certificate may be used for: its extended key usages.</summary>
public enum CertificateUsage
{
    /// <summary>TLS server authentication (1.3.6.1.5.5.7.3.1).</summary>
    Server,

    /// <summary>TLS client authentication (1.3.6.1.5.5.7.3.2).</summary>
    Client,

    /// <summary>Both, e.g. an etcd member talking to its peers.</summary>
    ServerAndClient,
}

/// <summary>
/// What one certificate should say: subject, subject alternative names, usage, lifetime. Decided by the server
/// side, never taken from a CSR: when signing, a CSR contributes its public key and nothing else.
/// </summary>
public sealed partial record CertificateProfile
{
    /// <summary>Longest common name X.509 allows (RFC 5280 ub-common-name).</summary>
    public const int MaxCommonNameLength = 64;

    /// <summary>Subject common name; for agent certificates the machine serial.</summary>
    public required string CommonName { get; init; }

    /// <summary>Subject organisations (O=); Kubernetes reads them as groups.</summary>
    public IReadOnlyList<string> Organizations { get; init; } = [];

    public IReadOnlyList<string> DnsNames { get; init; } = [];

    public IReadOnlyList<IPAddress> IpAddresses { get; init; } = [];

    public IReadOnlyList<Uri> Uris { get; init; } = [];

    public CertificateUsage Usage { get; init; } = CertificateUsage.Server;

    /// <summary>Requested validity; the issuer clamps it to its CA's (and Vault to its role's max TTL).</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromDays(30);

    public bool IsServer => Usage is CertificateUsage.Server or CertificateUsage.ServerAndClient;

    public bool IsClient => Usage is CertificateUsage.Client or CertificateUsage.ServerAndClient;

    /// <summary>Throws <see cref="CertificateRequestException"/> naming every problem at once.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(CommonName))
        {
            errors.Add("the common name is empty");
        }
        else if (CommonName.Length > MaxCommonNameLength)
        {
            errors.Add($"the common name is longer than {MaxCommonNameLength} characters");
        }
        else if (CommonName.Any(char.IsControl))
        {
            errors.Add("the common name contains control characters");
        }

        if (Organizations.Any(o => string.IsNullOrWhiteSpace(o) || o.Length > MaxCommonNameLength || o.Any(char.IsControl)))
        {
            errors.Add("an organisation is empty, too long or contains control characters");
        }

        foreach (var dns in DnsNames)
        {
            if (!DnsNamePattern().IsMatch(dns))
            {
                errors.Add($"'{Printable(dns)}' is not a DNS name");
            }
        }

        foreach (var uri in Uris)
        {
            if (!uri.IsAbsoluteUri)
            {
                errors.Add($"URI SAN '{Printable(uri.OriginalString)}' is not absolute");
            }
        }

        if (Lifetime <= TimeSpan.Zero)
        {
            errors.Add("the lifetime must be positive");
        }

        if (!Enum.IsDefined(Usage))
        {
            errors.Add("unknown usage");
        }

        if (errors.Count > 0)
        {
            throw new CertificateRequestException("invalid certificate profile: " + string.Join("; ", errors));
        }
    }

    private static string Printable(string s) =>
        s.Length > 80 ? string.Concat(s.AsSpan(0, 80), "…") : new string([.. s.Select(c => char.IsControl(c) ? '?' : c)]);

    // Labels of letters, digits and hyphens (not at either end), up to 253 characters; a leading "*." wildcard allowed.
    [GeneratedRegex(@"^(\*\.)?(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsNamePattern();
}

/// <summary>The profiles NekkoMetal uses, in one place.</summary>
public static class CertificateProfiles
{
    /// <summary>Organisation of every agent certificate.</summary>
    public const string AgentOrganization = "NekkoMetal agents";

    /// <summary>A boot server's HTTPS certificate for the names and addresses clients use to reach it.</summary>
    public static CertificateProfile BootServerHttps(string commonName, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, TimeSpan lifetime) => new()
    {
        CommonName = commonName,
        DnsNames = [.. dnsNames],
        IpAddresses = [.. addresses],
        Usage = CertificateUsage.Server,
        Lifetime = lifetime,
    };

    /// <summary>
    /// A node agent's client certificate: the subject is bound to the machine serial (CN and a
    /// <c>urn:nekkometal:machine:{serial}</c> URI SAN), so the server can refuse serial A speaking for serial B.
    /// </summary>
    public static CertificateProfile AgentClient(string serial, TimeSpan lifetime) => new()
    {
        CommonName = serial,
        Organizations = [AgentOrganization],
        Uris = [MachineUri(serial)],
        Usage = CertificateUsage.Client,
        Lifetime = lifetime,
    };

    private const string MachineUriPrefix = "urn:nekkometal:machine:";

    public static Uri MachineUri(string serial) =>
        new(MachineUriPrefix + Uri.EscapeDataString(serial), UriKind.Absolute);

    /// <summary>
    /// The machine serial an agent certificate speaks for: its <c>urn:nekkometal:machine:{serial}</c> URI SAN, which
    /// must agree with the common name. False for any other certificate. The caller has validated the chain
    /// against the agent CA first (<see cref="CertificateChecks.ValidateChain"/>).
    /// </summary>
    public static bool TryGetMachineSerial(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? serial)
    {
        serial = null;
        var machines = CertificateChecks.SubjectAlternativeNames(certificate).Uris
            .Select(u => u.OriginalString)
            .Where(u => u.StartsWith(MachineUriPrefix, StringComparison.Ordinal))
            .ToList();
        if (machines.Count != 1)
        {
            return false;
        }

        var fromUri = Uri.UnescapeDataString(machines[0][MachineUriPrefix.Length..]);
        var cn = certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, forIssuer: false);
        if (fromUri.Length == 0 || !string.Equals(fromUri, cn, StringComparison.Ordinal))
        {
            return false;
        }

        serial = fromUri;
        return true;
    }

    /// <summary>The lifetime as Vault's <c>ttl</c> parameter (whole seconds).</summary>
    internal static string ToVaultTtl(TimeSpan lifetime) =>
        ((long)Math.Ceiling(lifetime.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";
}
