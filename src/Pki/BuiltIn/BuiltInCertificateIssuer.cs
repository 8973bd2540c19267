using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Pki.BuiltIn;

/// <summary>
/// The built-in CA: one self-signed root per <see cref="CaKind"/>, made on first start and kept in etcd with its
/// private key sealed under the key-encryption key file (<see cref="KeyEncryptionKey"/>). Several boot servers
/// share it: every creation is a create-if-absent transaction, and a server that loses the race loads the
/// winner's CA. A KEK that does not fit what etcd holds stops the start with a clear error; nothing is overwritten.
/// </summary>
public sealed partial class BuiltInCertificateIssuer : ICertificateIssuer, IDisposable
{
    private const string KeyAlgorithm = "ecdsa-p256";

    private readonly EtcdStore _store;
    private readonly PkiOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BuiltInCertificateIssuer> _logger;
    private readonly PkiKeys _keys;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile Dictionary<CaKind, LoadedCa>? _cas;

    public BuiltInCertificateIssuer(EtcdStore store, PkiOptions options, TimeProvider time, ILogger<BuiltInCertificateIssuer> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = (options ?? throw new ArgumentNullException(nameof(options))).EnsureValid();
        _time = time;
        _logger = logger;
        _keys = new PkiKeys(store.Keys.Prefix);
    }

    public async Task InitializeAsync(CancellationToken ct) => await CasAsync(ct);

    public async Task<IssuedCertificate> IssueAsync(CaKind ca, CertificateProfile profile, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        var authority = (await CasAsync(ct))[ca];
        using var key = CertificateMinter.NewKey();
        using var publicKeyOnly = CertificateMinter.CreateLeaf(
            authority.Certificate, authority.Key, new PublicKey(key), profile, _time.GetUtcNow(), _options.Backdate);
        var withKey = publicKeyOnly.CopyWithPrivateKey(key);
        LogIssued(ca.ToWire(), profile.CommonName, withKey.SerialNumber, withKey.NotAfter);
        return new IssuedCertificate(ca, withKey, [X509CertificateLoader.LoadCertificate(authority.Certificate.RawData)]);
    }

    public async Task<IssuedCertificate> SignAsync(CaKind ca, string csrPem, CertificateProfile profile, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        var publicKey = CertificateMinter.ReadCsrPublicKey(csrPem);
        var authority = (await CasAsync(ct))[ca];
        var cert = CertificateMinter.CreateLeaf(authority.Certificate, authority.Key, publicKey, profile, _time.GetUtcNow(), _options.Backdate);
        LogIssued(ca.ToWire(), profile.CommonName, cert.SerialNumber, cert.NotAfter);
        return new IssuedCertificate(ca, cert, [X509CertificateLoader.LoadCertificate(authority.Certificate.RawData)]);
    }

    public async Task<IReadOnlyList<X509Certificate2>> GetCaChainAsync(CaKind ca, CancellationToken ct) =>
        [X509CertificateLoader.LoadCertificate((await CasAsync(ct))[ca].Certificate.RawData)];

    private async ValueTask<Dictionary<CaKind, LoadedCa>> CasAsync(CancellationToken ct)
    {
        if (_cas is { } ready)
        {
            return ready;
        }

        await _initLock.WaitAsync(ct);
        try
        {
            if (_cas is { } again)
            {
                return again;
            }

            using var kek = await LoadKeyEncryptionKeyAsync(ct);
            var cas = new Dictionary<CaKind, LoadedCa>();
            try
            {
                foreach (var kind in CaKinds.All)
                {
                    cas[kind] = await EnsureCaAsync(kind, kek, ct);
                }
            }
            catch
            {
                foreach (var c in cas.Values)
                {
                    c.Dispose();
                }

                throw;
            }

            _cas = cas;
            return cas;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <summary>
    /// The KEK file and etcd's <c>pki/kek-id</c> must agree. A missing file is created only while etcd holds no
    /// PKI data yet; the first server to record its KEK id wins and the others must hold the same key.
    /// </summary>
    private async Task<KeyEncryptionKey> LoadKeyEncryptionKeyAsync(CancellationToken ct)
    {
        var path = _options.KeyEncryptionKeyPath;
        var recordedId = await GetStringAsync(_keys.KekId, ct);
        var kek = KeyEncryptionKey.TryLoad(path);
        var created = false;
        if (kek is null)
        {
            var anyCa = (await _store.GetPrefixAsync(_keys.CasPrefix, ct, keysOnly: true)).Kvs.Count > 0;
            if (recordedId is not null || anyCa)
            {
                throw new KeyEncryptionKeyException(
                    $"the PKI key-encryption key {path} does not exist, but etcd ({_keys.Root}) holds CA keys sealed with KEK id {recordedId ?? "(unknown)"}: " +
                    "copy the KEK file from another boot server (a new key would not open them, so none is created)");
            }

            (kek, created) = KeyEncryptionKey.LoadOrCreate(path);
            if (created)
            {
                LogKekCreated(path, kek.Id);
            }
        }

        try
        {
            if (kek.HasLoosePermissions)
            {
                LogKekLoose(path);
            }

            if (recordedId is null)
            {
                var txn = new TxnRequest();
                txn.Compare.Add(Absent(_keys.KekId));
                txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key(_keys.KekId), Value = ByteString.CopyFromUtf8(kek.Id) } });
                txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key(_keys.KekId) } });
                var r = await _store.TxnAsync(txn, ct);
                recordedId = r.Succeeded ? kek.Id : r.Responses[0].ResponseRange.Kvs.Single().Value.ToStringUtf8();
            }

            if (recordedId != kek.Id)
            {
                if (created)
                {
                    File.Delete(path); // made by this call a moment ago and never used: leave room for the right one
                }

                throw new KeyEncryptionKeyException(
                    $"the PKI key-encryption key {path} has id {kek.Id}, but the CA keys in etcd ({_keys.Root}) are sealed with KEK id {recordedId}: " +
                    "copy the KEK file from a boot server of this cluster (nothing was changed in etcd)");
            }

            return kek;
        }
        catch
        {
            kek.Dispose();
            throw;
        }
    }

    private async Task<LoadedCa> EnsureCaAsync(CaKind kind, KeyEncryptionKey kek, CancellationToken ct)
    {
        var key = _keys.Ca(kind);
        var existing = await _store.GetAsync(key, ct);
        if (existing.Kvs.Count > 0)
        {
            var loaded = Open(kind, existing.Kvs[0].Value, kek);
            LogCaLoaded(kind.ToWire(), loaded.Certificate.Thumbprint);
            return loaded;
        }

        using var caKey = CertificateMinter.NewKey();
        var now = _time.GetUtcNow();
        using var cert = CertificateMinter.CreateRoot(kind, caKey, now, _options.CaLifetime, _options.Backdate);
        var record = Seal(kind, cert, caKey, kek, now);
        var value = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(record, PkiJson.Default.CaRecord));

        // create-if-absent, and only while the KEK recorded in etcd is still ours
        var txn = new TxnRequest();
        txn.Compare.Add(Absent(key));
        txn.Compare.Add(new Compare
        {
            Key = Key(_keys.KekId),
            Target = Compare.Types.CompareTarget.Value,
            Result = Compare.Types.CompareResult.Equal,
            Value = ByteString.CopyFromUtf8(kek.Id),
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key(key), Value = value } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key(key) } });
        var result = await _store.TxnAsync(txn, ct);
        if (result.Succeeded)
        {
            LogCaCreated(kind.ToWire(), cert.Thumbprint, cert.NotAfter);
            return Open(kind, value, kek);
        }

        var winner = result.Responses[0].ResponseRange.Kvs;
        if (winner.Count == 0)
        {
            throw new KeyEncryptionKeyException($"the KEK id in etcd ({_keys.KekId}) changed while the {kind.ToWire()} CA was being created; nothing was written");
        }

        var loadedWinner = Open(kind, winner[0].Value, kek);
        LogCaRaceLost(kind.ToWire(), loadedWinner.Certificate.Thumbprint);
        return loadedWinner;
    }

    private static CaRecord Seal(CaKind kind, X509Certificate2 cert, ECDsa key, KeyEncryptionKey kek, DateTimeOffset now)
    {
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            var record = new CaRecord
            {
                Kind = kind.ToWire(),
                Certificate = cert.ExportCertificatePem(),
                KekId = kek.Id,
                KeyAlgorithm = KeyAlgorithm,
                KeyNonce = [],
                KeyCiphertext = [],
                KeyTag = [],
                CreatedAt = now,
            };
            var sealedKey = kek.Seal(pkcs8, System.Text.Encoding.UTF8.GetBytes(record.AssociatedData(SHA256.HashData(cert.RawData))));
            return record with { KeyNonce = sealedKey.Nonce, KeyCiphertext = sealedKey.Ciphertext, KeyTag = sealedKey.Tag };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private LoadedCa Open(CaKind kind, ByteString value, KeyEncryptionKey kek)
    {
        var what = $"{_keys.Ca(kind)}";
        CaRecord record;
        try
        {
            record = JsonSerializer.Deserialize(value.Span, PkiJson.Default.CaRecord)
                ?? throw new KeyEncryptionKeyException($"{what}: empty CA record");
        }
        catch (JsonException e)
        {
            throw new KeyEncryptionKeyException($"{what}: the CA record is not valid JSON", e);
        }

        if (record.Version != CaRecord.CurrentVersion || record.KeyAlgorithm != KeyAlgorithm || record.Kind != kind.ToWire())
        {
            throw new KeyEncryptionKeyException($"{what}: unsupported CA record (version {record.Version}, {record.KeyAlgorithm}, kind {record.Kind})");
        }

        if (record.KekId != kek.Id)
        {
            throw new KeyEncryptionKeyException(
                $"{what}: the CA key is sealed with KEK id {record.KekId}, but {kek.Path} has id {kek.Id}: copy the KEK file from a boot server of this cluster");
        }

        var cert = X509Certificate2.CreateFromPem(record.Certificate);
        var pkcs8 = kek.Open(new SealedKey(record.KeyNonce, record.KeyCiphertext, record.KeyTag),
            System.Text.Encoding.UTF8.GetBytes(record.AssociatedData(SHA256.HashData(cert.RawData))), what);
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        using var certPublic = cert.GetECDsaPublicKey();
        if (certPublic is null || !certPublic.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            key.Dispose();
            cert.Dispose();
            throw new KeyEncryptionKeyException($"{what}: the stored key does not belong to the stored certificate");
        }

        return new LoadedCa(cert, key);
    }

    private async Task<string?> GetStringAsync(string key, CancellationToken ct)
    {
        var r = await _store.GetAsync(key, ct);
        return r.Kvs.Count == 0 ? null : r.Kvs[0].Value.ToStringUtf8();
    }

    private static ByteString Key(string key) => ByteString.CopyFromUtf8(key);

    private static Compare Absent(string key) => new()
    {
        Key = Key(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = 0,
    };

    public void Dispose()
    {
        if (_cas is { } cas)
        {
            foreach (var c in cas.Values)
            {
                c.Dispose();
            }
        }

        _initLock.Dispose();
    }

    private sealed class LoadedCa(X509Certificate2 certificate, ECDsa key) : IDisposable
    {
        public X509Certificate2 Certificate { get; } = certificate;

        public ECDsa Key { get; } = key;

        public void Dispose()
        {
            Certificate.Dispose();
            Key.Dispose();
        }
    }

    [LoggerMessage(EventIds.KekCreated, LogLevel.Warning, "Created the PKI key-encryption key {Path} (id {KekId}); copy this file to every other boot server of the cluster and back it up")]
    private partial void LogKekCreated(string path, string kekId);

    [LoggerMessage(EventIds.KekLoosePermissions, LogLevel.Warning, "The PKI key-encryption key {Path} is readable by group or others; it should be mode 0600")]
    private partial void LogKekLoose(string path);

    [LoggerMessage(EventIds.CaCreated, LogLevel.Information, "Created the built-in {Ca} CA (thumbprint {Thumbprint}, valid until {NotAfter:O})")]
    private partial void LogCaCreated(string ca, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventIds.CaLoaded, LogLevel.Debug, "Loaded the built-in {Ca} CA (thumbprint {Thumbprint})")]
    private partial void LogCaLoaded(string ca, string thumbprint);

    [LoggerMessage(EventIds.CaRaceLost, LogLevel.Information, "Another boot server created the {Ca} CA first; using it (thumbprint {Thumbprint})")]
    private partial void LogCaRaceLost(string ca, string thumbprint);

    [LoggerMessage(EventIds.CertificateIssued, LogLevel.Information, "Issued a certificate from the {Ca} CA for {CommonName}, serial {Serial}, valid until {NotAfter:O}")]
    private partial void LogIssued(string ca, string commonName, string serial, DateTime notAfter);
}
