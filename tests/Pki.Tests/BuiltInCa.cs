using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki.BuiltIn;

namespace NekkoMetal.Pki.Tests;

/// <summary>
/// One built-in CA instance as a boot server has it: its own etcd client on a shared prefix and a data directory
/// holding the KEK file. Two of these on one prefix and one data directory (or a copied KEK) are two boot servers.
/// </summary>
internal sealed class BuiltInCa : IDisposable
{
    public BuiltInCa(string endpoint, string prefix, string dataDirectory, TimeProvider? time = null, TimeSpan? caLifetime = null, TimeSpan? backdate = null)
    {
        Store = new EtcdStore(new InventoryOptions { Endpoints = [endpoint], Prefix = prefix });
        Options = new PkiOptions
        {
            DataDirectory = dataDirectory,
            CaLifetime = caLifetime ?? TimeSpan.FromDays(3650),
            Backdate = backdate ?? TimeSpan.FromSeconds(30),
        };
        Issuer = new BuiltInCertificateIssuer(Store, Options, time ?? TimeProvider.System, NullLogger<BuiltInCertificateIssuer>.Instance);
    }

    public EtcdStore Store { get; }
    public PkiOptions Options { get; }
    public BuiltInCertificateIssuer Issuer { get; }

    public void Dispose()
    {
        Issuer.Dispose();
        Store.Dispose();
    }
}

/// <summary>A temporary data directory, deleted at the end.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("nekko-pki-").FullName;

    public string Kek => System.IO.Path.Combine(Path, "pki-kek");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
