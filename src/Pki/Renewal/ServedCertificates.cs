using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace NekkoMetal.Pki.Renewal;

/// <summary>
/// One certificate this process serves or presents, by name (<c>https</c>, <c>agent-client</c>, ...): which CA
/// issues it and with what profile. The profile is asked for at each issue, so names may change between renewals.
/// </summary>
public sealed record ServedCertificateRegistration(string Use, CaKind Ca, Func<CertificateProfile> Profile);

/// <summary>
/// Holds the current certificate of each registered use and replaces it at two thirds of its lifetime
/// (<see cref="RenewDueAsync"/>, run by <see cref="CertificateRenewalJob"/>). Servers never hold a certificate
/// themselves: they ask through <see cref="KestrelSelector"/> or <see cref="SslStreamSelector"/> at each handshake,
/// so a renewed certificate is served to new connections at once, without a restart, while open connections keep
/// the one they shook hands with.
/// </summary>
public sealed partial class ServedCertificates : IDisposable
{
    private readonly ICertificateIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly ILogger<ServedCertificates> _logger;
    private readonly Dictionary<string, Slot> _slots;

    public ServedCertificates(ICertificateIssuer issuer, IEnumerable<ServedCertificateRegistration> registrations, TimeProvider time, ILogger<ServedCertificates> logger)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        _issuer = issuer;
        _time = time;
        _logger = logger;
        _slots = new Dictionary<string, Slot>(StringComparer.Ordinal);
        foreach (var r in registrations)
        {
            if (!_slots.TryAdd(r.Use, new Slot(r)))
            {
                throw new PkiConfigurationException($"the served certificate '{r.Use}' is registered twice");
            }
        }
    }

    /// <summary>Raised after a certificate was issued or renewed (use, new certificate), e.g. to write it to a file.</summary>
    public event Action<string, IssuedCertificate>? Renewed;

    public IReadOnlyCollection<string> Uses => _slots.Keys;

    /// <summary>Issues every registered certificate that has none yet (at start, before the servers listen).</summary>
    public async Task EnsureIssuedAsync(CancellationToken ct)
    {
        foreach (var slot in _slots.Values)
        {
            if (slot.Current is null)
            {
                await RenewAsync(slot, ct);
            }
        }
    }

    /// <summary>The current certificate of <paramref name="use"/>, with its private key.</summary>
    public IssuedCertificate Current(string use) =>
        SlotOf(use).Current?.Issued ?? throw new InvalidOperationException($"the served certificate '{use}' has not been issued yet");

    /// <summary>For Kestrel's <c>HttpsConnectionAdapterOptions.ServerCertificateSelector</c>.</summary>
    public Func<ConnectionContext?, string?, X509Certificate2?> KestrelSelector(string use)
    {
        var slot = SlotOf(use);
        return (_, _) => slot.Current?.Issued.Certificate;
    }

    /// <summary>For <see cref="SslServerAuthenticationOptions.ServerCertificateSelectionCallback"/>.</summary>
    public ServerCertificateSelectionCallback SslStreamSelector(string use)
    {
        var slot = SlotOf(use);
        return (_, _) => slot.Current?.Issued.Certificate!;
    }

    /// <summary>
    /// The current certificate with its intermediates, for <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>
    /// (Kestrel's <c>TlsHandshakeCallbackOptions</c>): use it when the CA is an intermediate (Vault), so clients get the chain.
    /// </summary>
    public SslStreamCertificateContext CurrentContext(string use) =>
        SlotOf(use).Current?.Context ?? throw new InvalidOperationException($"the served certificate '{use}' has not been issued yet");

    /// <summary>
    /// Renews every certificate past two thirds of its lifetime (or missing). A failure is logged and the old
    /// certificate stays in service until the next run; returns the uses renewed.
    /// </summary>
    public async Task<IReadOnlyList<string>> RenewDueAsync(CancellationToken ct)
    {
        var renewed = new List<string>();
        var now = _time.GetUtcNow();
        foreach (var slot in _slots.Values)
        {
            if (slot.Current is { } current && now < current.Issued.RenewalDue)
            {
                continue;
            }

            try
            {
                await RenewAsync(slot, ct);
                renewed.Add(slot.Registration.Use);
            }
            catch (PkiException e)
            {
                LogRenewalFailed(e, slot.Registration.Use, slot.Current?.Issued.Certificate.NotAfter, e.IsTransient);
            }
            catch (Inventory.InventoryException e)
            {
                LogRenewalFailed(e, slot.Registration.Use, slot.Current?.Issued.Certificate.NotAfter, e.IsTransient);
            }
        }

        return renewed;
    }

    /// <summary>Replaces the certificate of <paramref name="use"/> now, whatever its age.</summary>
    public Task RenewAsync(string use, CancellationToken ct) => RenewAsync(SlotOf(use), ct);

    private async Task RenewAsync(Slot slot, CancellationToken ct)
    {
        await slot.Lock.WaitAsync(ct);
        try
        {
            var issued = await _issuer.IssueAsync(slot.Registration.Ca, slot.Registration.Profile(), ct);
            var intermediates = new X509Certificate2Collection();
            foreach (var c in issued.Chain.Take(Math.Max(0, issued.Chain.Count - 1)))
            {
                intermediates.Add(c);
            }

            var served = new Served(issued, SslStreamCertificateContext.Create(issued.Certificate, intermediates, offline: true));
            var old = slot.Current;
            slot.Current = served;

            // The one replaced may still be in a handshake that picked it a moment ago: it is disposed one renewal later.
            slot.Retired?.Issued.Dispose();
            slot.Retired = old;
            if (old is null)
            {
                LogIssued(slot.Registration.Use, issued.Certificate.SerialNumber, issued.Certificate.NotAfter, issued.RenewalDue);
            }
            else
            {
                LogRenewed(slot.Registration.Use, old.Issued.Certificate.SerialNumber, issued.Certificate.SerialNumber, issued.Certificate.NotAfter, issued.RenewalDue);
            }
        }
        finally
        {
            slot.Lock.Release();
        }

        Renewed?.Invoke(slot.Registration.Use, slot.Current!.Issued);
    }

    private Slot SlotOf(string use) =>
        _slots.TryGetValue(use, out var s) ? s : throw new InvalidOperationException($"no served certificate '{use}' is registered");

    public void Dispose()
    {
        foreach (var s in _slots.Values)
        {
            s.Current?.Issued.Dispose();
            s.Retired?.Issued.Dispose();
            s.Lock.Dispose();
        }
    }

    private sealed record Served(IssuedCertificate Issued, SslStreamCertificateContext Context);

    private sealed class Slot(ServedCertificateRegistration registration)
    {
        private volatile Served? _current;

        public ServedCertificateRegistration Registration { get; } = registration;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public Served? Current
        {
            get => _current;
            set => _current = value;
        }

        public Served? Retired { get; set; }
    }

    [LoggerMessage(EventIds.ServedCertificateIssued, LogLevel.Information, "Issued the {Use} certificate, serial {Serial}, valid until {NotAfter:O}, renewal due {Due:O}")]
    private partial void LogIssued(string use, string serial, DateTime notAfter, DateTimeOffset due);

    [LoggerMessage(EventIds.ServedCertificateRenewed, LogLevel.Information, "Renewed the {Use} certificate: serial {OldSerial} replaced by {Serial}, valid until {NotAfter:O}, renewal due {Due:O}")]
    private partial void LogRenewed(string use, string oldSerial, string serial, DateTime notAfter, DateTimeOffset due);

    [LoggerMessage(EventIds.RenewalFailed, LogLevel.Warning, "Could not renew the {Use} certificate (current one valid until {NotAfter:O}; transient {Transient}); trying again next run")]
    private partial void LogRenewalFailed(Exception e, string use, DateTime? notAfter, bool transient);
}
