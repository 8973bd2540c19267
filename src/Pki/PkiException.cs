namespace NekkoMetal.Pki;

/// <summary>
/// Base of the PKI's small exception taxonomy. <see cref="IsTransient"/> drives retries: only errors that may go
/// away by themselves within seconds are transient.
/// </summary>
public abstract class PkiException : Exception
{
    protected PkiException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>True when the same call may succeed if tried again shortly.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The PKI options are inconsistent or incomplete; every problem is listed at once.</summary>
public sealed class PkiConfigurationException(string message) : PkiException(message);

/// <summary>A certificate profile or a CSR is invalid (bad name, bad lifetime, bad CSR signature).</summary>
public sealed class CertificateRequestException(string message, Exception? inner = null) : PkiException(message, inner);

/// <summary>
/// The key-encryption key on this boot server's disk does not fit the CA keys in etcd: it is missing, of the wrong
/// size, or a different key. Nothing is ever overwritten in that case; the fix is to copy the KEK file from a boot
/// server that has the right one.
/// </summary>
public sealed class KeyEncryptionKeyException(string message, Exception? inner = null) : PkiException(message, inner);

/// <summary>
/// The issuer returned a certificate that does not carry what the profile asked for (a Vault role without the
/// client flag, a role that takes names from the CSR, ...). A configuration problem, not transient.
/// </summary>
public sealed class CertificateMismatchException(string message) : PkiException(message);
