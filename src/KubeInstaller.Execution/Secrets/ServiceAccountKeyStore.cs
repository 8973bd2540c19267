using System.Security.Cryptography;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki.BuiltIn;

namespace NekkoMetal.KubeInstaller.Execution.Secrets;

/// <summary>
/// The cluster's service-account key pair as stored at <c>kube/service-account-key</c>: the public key in the
/// clear, the private key (PKCS#8 DER) sealed under the boot servers' key-encryption key.
/// </summary>
public sealed record ServiceAccountKeyRecord
{
    public int Version { get; init; } = 1;

    /// <summary>"rsa-2048" (what kubeadm makes; every Kubernetes version reads it).</summary>
    public required string Algorithm { get; init; }

    public required string PublicKeyPem { get; init; }

    public required string KekId { get; init; }

    public required byte[] Nonce { get; init; }

    public required byte[] Ciphertext { get; init; }

    public required byte[] Tag { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// One service-account key pair per cluster (kube-apiserver verifies and signs tokens with it, the
/// controller-manager signs them): made once by the first boot server that needs it, by a create-if-absent
/// transaction — two racing servers both end with the winner's key — and never replaced (a new key would
/// invalidate every issued token). The private key is kept sealed (<see cref="SecretSealer"/>, the built-in CA's
/// mechanism) and opened only to be written to a control-plane node.
/// </summary>
public sealed class ServiceAccountKeyStore(EtcdStore store, SecretSealer sealer, TimeProvider time)
{
    private const string Purpose = "kubernetes-service-account-key";
    private readonly string _key = new KubeKeys(store.Keys).ServiceAccountKey;

    /// <summary>The stored record, or null when no key was made yet.</summary>
    public async Task<ServiceAccountKeyRecord?> GetRecordAsync(CancellationToken ct)
    {
        var r = await store.GetAsync(_key, ct);
        return r.Kvs.Count == 0 ? null : JsonSerializer.Deserialize<ServiceAccountKeyRecord>(r.Kvs[0].Value.Span, InventoryJson.Options);
    }

    /// <summary>The private key as PKCS#8 PEM, making the pair first when there is none.</summary>
    public async Task<string> GetOrCreatePrivateKeyPemAsync(CancellationToken ct)
    {
        var record = await GetRecordAsync(ct) ?? await CreateAsync(ct);
        var der = sealer.Open(new SealedSecret(record.KekId, record.Nonce, record.Ciphertext, record.Tag), Purpose);
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(der, out _);
            return rsa.ExportPkcs8PrivateKeyPem() + "\n";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    private async Task<ServiceAccountKeyRecord> CreateAsync(CancellationToken ct)
    {
        using var rsa = RSA.Create(2048);
        var der = rsa.ExportPkcs8PrivateKey();
        SealedSecret sealedKey;
        try
        {
            sealedKey = sealer.Seal(der, Purpose);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }

        var record = new ServiceAccountKeyRecord
        {
            Algorithm = "rsa-2048",
            PublicKeyPem = rsa.ExportSubjectPublicKeyInfoPem() + "\n",
            KekId = sealedKey.KekId,
            Nonce = sealedKey.Nonce,
            Ciphertext = sealedKey.Ciphertext,
            Tag = sealedKey.Tag,
            CreatedAt = time.GetUtcNow(),
        };
        var key = ByteString.CopyFromUtf8(_key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = InventoryJson.ToBytes(record) } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var r = await store.TxnAsync(txn, ct);
        return r.Succeeded
            ? record
            : JsonSerializer.Deserialize<ServiceAccountKeyRecord>(r.Responses[0].ResponseRange.Kvs[0].Value.Span, InventoryJson.Options)!; // another server won
    }
}
