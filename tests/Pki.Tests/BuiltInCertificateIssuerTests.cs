using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.TestKit;

namespace NekkoMetal.Pki.Tests;

/// <summary>The built-in CA against a real etcd, each test under its own key prefix and data directory (issue 5, must-show 1).</summary>
[Collection(EtcdCollection.Name)]
public sealed class BuiltInCertificateIssuerTests(EtcdFixture etcd) : IDisposable
{
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private BuiltInCa NewCa(TimeProvider? time = null, TimeSpan? caLifetime = null, string? dataDirectory = null) =>
        new(etcd.Endpoint, _prefix, dataDirectory ?? _dir.Path, time, caLifetime);

    private static CertificateProfile ServerProfile => new()
    {
        CommonName = "boot-1.lab",
        DnsNames = ["boot-1.lab", "nekko.lab"],
        IpAddresses = [IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::10")],
        Uris = [new Uri("spiffe://lab/boot-1")],
        Usage = CertificateUsage.Server,
        Lifetime = TimeSpan.FromDays(7),
    };

    [Fact]
    public async Task Issue_ServerCertificate_ChainsToTheRoot_WithRequestedNamesAndUsages()
    {
        using var ca = NewCa();
        using var issued = await ca.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile, default);
        var roots = await ca.Issuer.GetCaChainAsync(CaKind.BootServerHttps, default);

        Assert.True(issued.Certificate.HasPrivateKey);
        Assert.Empty(CertificateChecks.ValidateChain(issued.Certificate, roots));
        Assert.Equal(roots.Single().Thumbprint, issued.Chain.Single().Thumbprint);

        var (dns, ips, uris) = CertificateChecks.SubjectAlternativeNames(issued.Certificate);
        Assert.Equal(["boot-1.lab", "nekko.lab"], dns);
        Assert.Equal([IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::10")], ips);
        Assert.Equal([new Uri("spiffe://lab/boot-1")], uris);
        Assert.Equal([CertificateChecks.ServerAuthOid], CertificateChecks.ExtendedKeyUsages(issued.Certificate));
        Assert.Equal("boot-1.lab", issued.Certificate.GetNameInfo(X509NameType.SimpleName, false));

        var ku = issued.Certificate.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, ku.KeyUsages);
        Assert.False(issued.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        using var pub = issued.Certificate.GetECDsaPublicKey();
        Assert.Equal(256, pub!.KeySize);

        // AKI of the leaf = SKI of the root
        var ski = roots.Single().Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.ToArray();
        var aki = issued.Certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.ToArray();
        Assert.Equal(ski, aki);
        Assert.NotNull(issued.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().SingleOrDefault());

        // the root: a CA limited to signing leaves
        var bc = roots.Single().Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(bc.CertificateAuthority);
        Assert.Equal(0, bc.PathLengthConstraint);
    }

    [Theory]
    [InlineData(CertificateUsage.Client, new[] { CertificateChecks.ClientAuthOid })]
    [InlineData(CertificateUsage.ServerAndClient, new[] { CertificateChecks.ServerAuthOid, CertificateChecks.ClientAuthOid })]
    public async Task Issue_Usage_SetsExactlyTheRequestedExtendedKeyUsages(CertificateUsage usage, string[] expected)
    {
        using var ca = NewCa();
        using var issued = await ca.Issuer.IssueAsync(CaKind.KubernetesEtcd, ServerProfile with { Usage = usage }, default);
        Assert.Equal(expected, CertificateChecks.ExtendedKeyUsages(issued.Certificate));
    }

    [Fact]
    public async Task Issue_SerialsAreRandomAndPositive()
    {
        using var ca = NewCa();
        var serials = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            using var c = await ca.Issuer.IssueAsync(CaKind.AgentClient, CertificateProfiles.AgentClient("SN-" + i, TimeSpan.FromDays(1)), default);
            var serial = c.Certificate.SerialNumberBytes.Span; // big-endian as in the certificate
            Assert.Equal(16, serial.Length);
            Assert.True(serial[0] is > 0 and < 0x80);
            Assert.True(serials.Add(c.Certificate.SerialNumber));
        }
    }

    [Fact]
    public async Task Issue_Lifetime_IsHonoured_AndClampedToTheCa()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        using var ca = NewCa(time, caLifetime: TimeSpan.FromDays(10));
        using var week = await ca.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile with { Lifetime = TimeSpan.FromDays(7) }, default);
        Assert.Equal(time.GetUtcNow().AddDays(7).UtcDateTime, week.Certificate.NotAfter.ToUniversalTime());
        Assert.Equal(time.GetUtcNow().AddSeconds(-30).UtcDateTime, week.Certificate.NotBefore.ToUniversalTime());

        using var year = await ca.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile with { Lifetime = TimeSpan.FromDays(365) }, default);
        var root = (await ca.Issuer.GetCaChainAsync(CaKind.BootServerHttps, default)).Single();
        Assert.Equal(root.NotAfter, year.Certificate.NotAfter);
        Assert.Equal(time.GetUtcNow().AddDays(10).UtcDateTime, root.NotAfter.ToUniversalTime());
    }

    [Fact]
    public async Task Sign_UsesOnlyTheCsrKey_SubjectAndNamesComeFromTheProfile()
    {
        using var ca = NewCa();
        using var agentKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=SN-EVIL", agentKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("evil.example");
        csr.CertificateExtensions.Add(san.Build());
        var pem = csr.CreateSigningRequestPem();

        using var signed = await ca.Issuer.SignAsync(CaKind.AgentClient, pem, CertificateProfiles.AgentClient("SN-A", TimeSpan.FromDays(2)), default);

        Assert.False(signed.Certificate.HasPrivateKey);
        Assert.Equal("SN-A", signed.Certificate.GetNameInfo(X509NameType.SimpleName, false));
        Assert.Contains("O=NekkoMetal agents", signed.Certificate.Subject);
        var (dns, _, uris) = CertificateChecks.SubjectAlternativeNames(signed.Certificate);
        Assert.Empty(dns);
        Assert.Equal([CertificateProfiles.MachineUri("SN-A")], uris);
        Assert.Equal([CertificateChecks.ClientAuthOid], CertificateChecks.ExtendedKeyUsages(signed.Certificate));
        using var pub = signed.Certificate.GetECDsaPublicKey()!;
        Assert.Equal(agentKey.ExportSubjectPublicKeyInfo(), pub.ExportSubjectPublicKeyInfo());
        Assert.Empty(CertificateChecks.ValidateChain(signed.Certificate, await ca.Issuer.GetCaChainAsync(CaKind.AgentClient, default)));
    }

    [Theory]
    [InlineData("SN-A")]
    [InlineData("To be filled: 52:54:00:12:34:56")]
    [InlineData("seri/al ä%20")]
    public async Task AgentCertificate_NamesItsMachineSerial(string serial)
    {
        using var ca = NewCa();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=whatever", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var signed = await ca.Issuer.SignAsync(CaKind.AgentClient, csr, CertificateProfiles.AgentClient(serial, TimeSpan.FromDays(1)), default);

        Assert.True(CertificateProfiles.TryGetMachineSerial(signed.Certificate, out var read));
        Assert.Equal(serial, read);

        using var server = await ca.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile, default);
        Assert.False(CertificateProfiles.TryGetMachineSerial(server.Certificate, out _));
    }

    [Fact]
    public async Task Sign_RsaCsr_GetsKeyEncipherment()
    {
        using var ca = NewCa();
        using var rsa = RSA.Create(2048);
        var pem = new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var signed = await ca.Issuer.SignAsync(CaKind.Kubernetes, pem, ServerProfile, default);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment,
            signed.Certificate.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
    }

    [Fact]
    public async Task Sign_CsrWithBrokenSignature_IsRefused()
    {
        using var ca = NewCa();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        der[^3] ^= 0x55; // inside the signature
        var pem = PemEncoding.WriteString("CERTIFICATE REQUEST", der);
        var e = await Assert.ThrowsAsync<CertificateRequestException>(() => ca.Issuer.SignAsync(CaKind.AgentClient, pem, ServerProfile, default));
        Assert.Contains("signature", e.Message);
        await Assert.ThrowsAsync<CertificateRequestException>(() => ca.Issuer.SignAsync(CaKind.AgentClient, "not a csr", ServerProfile, default));
    }

    [Fact]
    public async Task InvalidProfile_IsRefused_NamingEveryProblem()
    {
        using var ca = NewCa();
        var e = await Assert.ThrowsAsync<CertificateRequestException>(() => ca.Issuer.IssueAsync(CaKind.BootServerHttps,
            ServerProfile with { CommonName = "", DnsNames = ["bad name!"], Lifetime = TimeSpan.Zero }, default));
        Assert.Contains("common name", e.Message);
        Assert.Contains("bad name!", e.Message);
        Assert.Contains("lifetime", e.Message);
    }

    [Fact]
    public async Task EachCaKind_HasItsOwnRoot_AndCertificatesDoNotCrossOver()
    {
        using var ca = NewCa();
        var roots = new Dictionary<CaKind, X509Certificate2>();
        foreach (var kind in CaKinds.All)
        {
            roots[kind] = (await ca.Issuer.GetCaChainAsync(kind, default)).Single();
            Assert.Contains(kind.ToWire(), roots[kind].Subject);
        }

        Assert.Equal(4, roots.Values.Select(r => r.Thumbprint).Distinct().Count());
        using var agent = await ca.Issuer.IssueAsync(CaKind.AgentClient, CertificateProfiles.AgentClient("SN-1", TimeSpan.FromDays(1)), default);
        Assert.Empty(CertificateChecks.ValidateChain(agent.Certificate, [roots[CaKind.AgentClient]]));
        Assert.NotEmpty(CertificateChecks.ValidateChain(agent.Certificate, [roots[CaKind.BootServerHttps]]));
    }

    [Fact]
    public async Task CaKeysInEtcd_AreCiphertext_NoPrivateKeyInAnyValue()
    {
        using var ca = NewCa();
        await ca.Issuer.InitializeAsync(default);

        var (kvs, _) = await ca.Store.RangeAllAsync(_prefix, 0, default);
        var records = kvs.Where(kv => kv.Key.ToStringUtf8().Contains("/pki/ca/")).ToList();
        Assert.Equal(4, records.Count);

        // the real private keys, read the way only a holder of the KEK can
        var privateScalars = new List<byte[]>();
        var pkcs8s = new List<byte[]>();
        using var kek = BuiltIn.KeyEncryptionKey.TryLoad(_dir.Kek)!;
        foreach (var kv in records)
        {
            var rec = System.Text.Json.JsonSerializer.Deserialize(kv.Value.Span, BuiltIn.PkiJson.Default.CaRecord)!;
            Assert.Equal(kek.Id, rec.KekId);
            Assert.Equal(12, rec.KeyNonce.Length);
            Assert.Equal(16, rec.KeyTag.Length);

            // the stored bytes are not a PKCS#8 key
            using (var probe = ECDsa.Create())
            {
                Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(rec.KeyCiphertext, out _));
            }

            using var cert = X509Certificate2.CreateFromPem(rec.Certificate);
            var pkcs8 = kek.Open(new BuiltIn.SealedKey(rec.KeyNonce, rec.KeyCiphertext, rec.KeyTag),
                System.Text.Encoding.UTF8.GetBytes(rec.AssociatedData(SHA256.HashData(cert.RawData))), "test");
            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            pkcs8s.Add(pkcs8);
            privateScalars.Add(key.ExportParameters(includePrivateParameters: true).D!);
        }

        // no value anywhere under the prefix holds a private key, raw or base64
        foreach (var kv in kvs)
        {
            var raw = kv.Value.ToByteArray();
            var text = kv.Value.ToStringUtf8();
            foreach (var secret in privateScalars.Concat(pkcs8s))
            {
                Assert.False(raw.AsSpan().IndexOf(secret) >= 0, $"{kv.Key.ToStringUtf8()} holds private key bytes");
                Assert.DoesNotContain(Convert.ToBase64String(secret), text);
            }

            Assert.DoesNotContain("PRIVATE KEY", text);
        }

        // and the KEK itself is not in etcd
        var kekBytes = await File.ReadAllBytesAsync(_dir.Kek);
        Assert.All(kvs, kv => Assert.False(kv.Value.Span.IndexOf(kekBytes) >= 0));
        Assert.All(kvs, kv => Assert.DoesNotContain(Convert.ToBase64String(kekBytes), kv.Value.ToStringUtf8()));
    }

    [Fact]
    public async Task KekFile_IsCreatedMode0600_With32Bytes()
    {
        using var ca = NewCa();
        await ca.Issuer.InitializeAsync(default);
        Assert.Equal(32, new FileInfo(_dir.Kek).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.Kek));
        }

        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task SecondBootServer_WithItsOwnEtcdClientAndTheSameKek_IssuesFromTheSameCa()
    {
        using var first = NewCa();
        var root = (await first.Issuer.GetCaChainAsync(CaKind.BootServerHttps, default)).Single();

        // the second boot server: another process in real life; here a new etcd client and the KEK copied to its own data directory
        using var otherDir = new TempDir();
        File.Copy(_dir.Kek, otherDir.Kek);
        using var second = NewCa(dataDirectory: otherDir.Path);
        using var issued = await second.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile, default);

        Assert.Equal(root.Thumbprint, issued.Chain.Single().Thumbprint);
        Assert.Empty(CertificateChecks.ValidateChain(issued.Certificate, [root]));
    }

    [Fact]
    public async Task ConcurrentFirstStart_OfTwoServers_EndsWithOneCaPerKind()
    {
        for (var round = 0; round < 3; round++)
        {
            var prefix = EtcdFixture.NewPrefix();
            using var dir = new TempDir();
            using var a = new BuiltInCa(etcd.Endpoint, prefix, dir.Path);
            using var b = new BuiltInCa(etcd.Endpoint, prefix, dir.Path);
            await Task.WhenAll(Task.Run(() => a.Issuer.InitializeAsync(default)), Task.Run(() => b.Issuer.InitializeAsync(default)));

            foreach (var kind in CaKinds.All)
            {
                var ra = (await a.Issuer.GetCaChainAsync(kind, default)).Single();
                var rb = (await b.Issuer.GetCaChainAsync(kind, default)).Single();
                Assert.Equal(ra.Thumbprint, rb.Thumbprint);
            }

            var stored = await a.Store.GetPrefixAsync(prefix + "pki/ca/", default);
            Assert.Equal(4, stored.Kvs.Count);
            Assert.True(stored.Kvs.All(kv => kv.Version == 1)); // created once, never overwritten
        }
    }

    [Fact]
    public async Task WrongKek_IsAClearError_AndNothingInEtcdChanges()
    {
        using (var ca = NewCa())
        {
            await ca.Issuer.InitializeAsync(default);
        }

        using var store = new BuiltInCa(etcd.Endpoint, _prefix, _dir.Path);
        var before = (await store.Store.RangeAllAsync(_prefix + "pki/", 0, default)).Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.ModRevision)).ToList();

        File.WriteAllBytes(_dir.Kek, RandomNumberGenerator.GetBytes(32));
        using var wrong = NewCa();
        var e = await Assert.ThrowsAsync<KeyEncryptionKeyException>(() => wrong.Issuer.IssueAsync(CaKind.BootServerHttps, ServerProfile, default));
        Assert.Contains(_dir.Kek, e.Message);
        Assert.Contains("sealed with KEK id", e.Message);
        Assert.Contains("copy the KEK file", e.Message);

        var after = (await store.Store.RangeAllAsync(_prefix + "pki/", 0, default)).Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.ModRevision)).ToList();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task MissingKek_WithCasInEtcd_IsAClearError_AndNoNewKeyIsMade()
    {
        using (var ca = NewCa())
        {
            await ca.Issuer.InitializeAsync(default);
        }

        File.Delete(_dir.Kek);
        using var again = NewCa();
        var e = await Assert.ThrowsAsync<KeyEncryptionKeyException>(() => again.Issuer.InitializeAsync(default));
        Assert.Contains("does not exist", e.Message);
        Assert.False(File.Exists(_dir.Kek));
    }

    [Fact]
    public async Task KekOfWrongSize_IsAClearError()
    {
        File.WriteAllBytes(_dir.Kek, new byte[16]);
        using var ca = NewCa();
        var e = await Assert.ThrowsAsync<KeyEncryptionKeyException>(() => ca.Issuer.InitializeAsync(default));
        Assert.Contains("16 bytes", e.Message);
        Assert.Equal(16, new FileInfo(_dir.Kek).Length); // not overwritten
    }

    [Fact]
    public async Task AlteredRecordInEtcd_IsRefused()
    {
        using (var ca = NewCa())
        {
            await ca.Issuer.InitializeAsync(default);
        }

        // put the agent CA's sealed key into the HTTPS CA's record: the associated data no longer fits
        using var raw = NewCa();
        var https = (await raw.Store.GetAsync(_prefix + "pki/ca/boot-server-https", default)).Kvs.Single().Value;
        var agent = (await raw.Store.GetAsync(_prefix + "pki/ca/agent-client", default)).Kvs.Single().Value;
        var h = System.Text.Json.JsonSerializer.Deserialize(https.Span, BuiltIn.PkiJson.Default.CaRecord)!;
        var a = System.Text.Json.JsonSerializer.Deserialize(agent.Span, BuiltIn.PkiJson.Default.CaRecord)!;
        var swapped = h with { KeyNonce = a.KeyNonce, KeyCiphertext = a.KeyCiphertext, KeyTag = a.KeyTag };
        await raw.Store.PutAsync(_prefix + "pki/ca/boot-server-https",
            ByteString.CopyFrom(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(swapped, BuiltIn.PkiJson.Default.CaRecord)), default);

        var e = await Assert.ThrowsAsync<KeyEncryptionKeyException>(() => raw.Issuer.InitializeAsync(default));
        Assert.Contains("does not open", e.Message);
    }
}
