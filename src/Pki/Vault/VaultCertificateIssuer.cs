using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Pki.BuiltIn;

namespace NekkoMetal.Pki.Vault;

/// <summary>
/// Issues from Vault's PKI secrets engine: <c>{mount}/issue/{role}</c> (Vault makes the key),
/// <c>{mount}/sign/{role}</c> (a CSR: the key stays with the requester), <c>{mount}/cert/ca_chain</c>. Mount and
/// role per CA kind come from <see cref="VaultOptions.Cas"/>. Vault's role decides usages, organisation and the
/// maximum TTL; what comes back is checked against the profile, and a mismatch is a clear configuration error.
/// </summary>
public sealed class VaultCertificateIssuer(VaultClient client, VaultOptions options) : ICertificateIssuer
{
    public Task InitializeAsync(CancellationToken ct) => client.EnsureAuthenticatedAsync(ct);

    public async Task<IssuedCertificate> IssueAsync(CaKind ca, CertificateProfile profile, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        var binding = options.BindingFor(ca);
        var role = binding.RoleFor(profile.Usage);
        var op = $"POST {binding.Mount}/issue/{role}";
        var body = RequestBody(profile);
        body["private_key_format"] = "pkcs8";
        using var doc = await client.IssueAsync(binding.Mount, role, body, ct);
        var data = VaultClient.Data(doc.RootElement, op);
        var certPem = String(data, "certificate", op);
        var keyPem = String(data, "private_key", op);
        X509Certificate2 cert;
        try
        {
            cert = X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (CryptographicException e)
        {
            throw new VaultProtocolException(op, "certificate or private_key is not PEM: " + e.Message);
        }

        return Finish(ca, profile, cert, data, op);
    }

    public async Task<IssuedCertificate> SignAsync(CaKind ca, string csrPem, CertificateProfile profile, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        var requestedKey = CertificateMinter.ReadCsrPublicKey(csrPem); // a bad CSR never goes to Vault
        var binding = options.BindingFor(ca);
        var role = binding.RoleFor(profile.Usage);
        var op = $"POST {binding.Mount}/sign/{role}";
        var body = RequestBody(profile);
        body["csr"] = csrPem;
        using var doc = await client.SignAsync(binding.Mount, role, body, ct);
        var data = VaultClient.Data(doc.RootElement, op);
        X509Certificate2 cert;
        try
        {
            cert = X509Certificate2.CreateFromPem(String(data, "certificate", op));
        }
        catch (CryptographicException e)
        {
            throw new VaultProtocolException(op, "certificate is not PEM: " + e.Message);
        }

        if (!cert.PublicKey.EncodedKeyValue.RawData.AsSpan().SequenceEqual(requestedKey.EncodedKeyValue.RawData))
        {
            cert.Dispose();
            throw new CertificateMismatchException($"vault: {op} returned a certificate for another public key than the CSR's");
        }

        return Finish(ca, profile, cert, data, op);
    }

    public async Task<IReadOnlyList<X509Certificate2>> GetCaChainAsync(CaKind ca, CancellationToken ct)
    {
        var binding = options.BindingFor(ca);
        var pem = await client.ReadCaChainPemAsync(binding.Mount, ct);
        return Order(ParseChain(pem, $"GET {binding.Mount}/cert/ca_chain"));
    }

    private static JsonObject RequestBody(CertificateProfile profile)
    {
        var body = new JsonObject
        {
            ["common_name"] = profile.CommonName,
            ["ttl"] = CertificateProfiles.ToVaultTtl(profile.Lifetime),
            ["format"] = "pem",
        };
        if (profile.DnsNames.Count > 0)
        {
            body["alt_names"] = string.Join(',', profile.DnsNames);
        }

        if (profile.IpAddresses.Count > 0)
        {
            body["ip_sans"] = string.Join(',', profile.IpAddresses.Select(a => a.ToString()));
        }

        if (profile.Uris.Count > 0)
        {
            body["uri_sans"] = string.Join(',', profile.Uris.Select(u => u.OriginalString));
        }

        return body;
    }

    private static IssuedCertificate Finish(CaKind ca, CertificateProfile profile, X509Certificate2 cert, JsonElement data, string op)
    {
        try
        {
            CertificateChecks.EnsureMatches(profile, cert, $"vault ({op})");
            List<X509Certificate2> chain;
            if (data.TryGetProperty("ca_chain", out var caChain) && caChain.ValueKind == JsonValueKind.Array && caChain.GetArrayLength() > 0)
            {
                chain = [.. caChain.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).SelectMany(e => ParseChain(e.GetString()!, op))];
            }
            else
            {
                chain = ParseChain(String(data, "issuing_ca", op), op);
            }

            return new IssuedCertificate(ca, cert, Order(chain));
        }
        catch
        {
            cert.Dispose();
            throw;
        }
    }

    private static List<X509Certificate2> ParseChain(string pem, string op)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new VaultProtocolException(op, "the CA chain is not PEM: " + e.Message);
        }

        return collection.Count > 0 ? [.. collection] : throw new VaultProtocolException(op, "empty CA chain");
    }

    /// <summary>Issuing CA first, self-signed root last (Vault's order, made sure of).</summary>
    private static List<X509Certificate2> Order(List<X509Certificate2> chain)
    {
        var distinct = chain.DistinctBy(c => c.Thumbprint).ToList();
        return [.. distinct.Where(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) is false),
                .. distinct.Where(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData))];
    }

    private static string String(JsonElement data, string name, string op) =>
        data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(v.GetString())
            ? v.GetString()!
            : throw new VaultProtocolException(op, $"no data.{name}");
}
