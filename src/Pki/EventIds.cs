namespace NekkoMetal.Pki;

/// <summary>
/// Log event ids of the PKI library, one range per area:
/// 4000–4099 built-in CA, 4100–4199 Vault, 4200–4299 served certificates and renewal.
/// (Inventory uses 1000–1999, the boot server 2000–2999, TFTP and DHCP 3000–3199.)
/// </summary>
internal static class EventIds
{
    public const int KekCreated = 4000;
    public const int CaCreated = 4001;
    public const int CaLoaded = 4002;
    public const int CaRaceLost = 4003;
    public const int KekLoosePermissions = 4004;
    public const int CertificateIssued = 4005;
    public const int VaultLogin = 4100;
    public const int VaultRelogin = 4101;
    public const int VaultRetry = 4102;
    public const int VaultTokenRenewed = 4103;
    public const int VaultTokenRenewFailed = 4104;
    public const int VaultMaintenanceFailed = 4105;
    public const int ServedCertificateIssued = 4200;
    public const int ServedCertificateRenewed = 4201;
    public const int RenewalFailed = 4202;
}
