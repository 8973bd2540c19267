using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NekkoMetal.Pki;

/// <summary>
/// Checks a PKCS#10 request before anything is spent on it (a bootstrap token, a CA signature): PEM of one request,
/// a valid self-signature (proof of possession of the private key) and an allowed key type. Only the public key of a
/// CSR is ever used; its subject and extensions are ignored.
/// </summary>
public static class CsrChecks
{
    /// <summary>Largest CSR accepted (a P-256 request is about 500 bytes of PEM).</summary>
    public const int MaxPemLength = 16 * 1024;

    /// <summary>The key types agents may use: ECDSA on P-256 (what the agent generates) or P-384.</summary>
    public static IReadOnlyList<string> AllowedCurves { get; } = ["P-256", "P-384"];

    /// <summary>
    /// Throws <see cref="CertificateRequestException"/> (its message says what is wrong, never echoes the input)
    /// unless <paramref name="csrPem"/> is a PEM PKCS#10 request with a valid signature over an ECDSA P-256 or P-384
    /// key. Returns the key's curve name.
    /// </summary>
    public static string EnsureAllowedEcdsaRequest(string? csrPem)
    {
        if (string.IsNullOrWhiteSpace(csrPem) || csrPem.Length > MaxPemLength)
        {
            throw new CertificateRequestException($"the CSR is empty or longer than {MaxPemLength} characters");
        }

        CertificateRequest request;
        try
        {
            // Default options: the signature is verified; a request whose signature does not match its key fails here.
            request = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException e)
        {
            throw new CertificateRequestException("the CSR is not a PEM PKCS#10 request with a valid signature", e);
        }

        using var ecdsa = request.PublicKey.GetECDsaPublicKey();
        if (ecdsa is null)
        {
            throw new CertificateRequestException($"the CSR's key is not ECDSA (oid {request.PublicKey.Oid.Value}); allowed: ECDSA {string.Join(" or ", AllowedCurves)}");
        }

        var curve = CurveName(ecdsa.ExportParameters(false).Curve);
        if (curve is null || !AllowedCurves.Contains(curve))
        {
            throw new CertificateRequestException($"the CSR's ECDSA curve is {curve ?? "not a named curve"}; allowed: {string.Join(" or ", AllowedCurves)}");
        }

        return curve;
    }

    private static string? CurveName(ECCurve curve) => curve.Oid?.Value switch
    {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        _ => curve.Oid?.FriendlyName,
    };
}
