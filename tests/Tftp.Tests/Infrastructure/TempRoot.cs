using System.Security.Cryptography;

namespace NekkoMetal.Tftp.Tests.Infrastructure;

/// <summary>A temporary TFTP root with generated files, deleted on dispose.</summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot()
    {
        Path = Directory.CreateTempSubdirectory("nekko-tftp-").FullName;
    }

    public string Path { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="length"/> random bytes and returns them.</summary>
    public byte[] AddFile(string name, int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        var full = this[name];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, data);
        return data;
    }

    public static string Sha256(byte[] data) => Convert.ToHexString(SHA256.HashData(data));

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
