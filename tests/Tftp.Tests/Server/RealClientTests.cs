using NekkoMetal.Tftp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NekkoMetal.Tftp.Tests.Server;

/// <summary>One server (real clock) and a root of generated files shared by the real-client tests.</summary>
public sealed class RealClientFixture : IAsyncLifetime
{
    public TempRoot Root { get; } = new();

    public Dictionary<string, string> Hashes { get; } = [];

    public TftpTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        foreach (var (name, length) in RealClientTests.Files)
        {
            Hashes[name] = TempRoot.Sha256(Root.AddFile(name, length));
        }

        Directory.CreateDirectory(Root["dir"]);
        File.CreateSymbolicLink(Root["escape"], "/etc/passwd");
        Server = await TftpTestServer.StartAsync(Root.Path);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Root.Dispose();
    }
}

/// <summary>curl and atftp, the clients of BENCH.md, download from our server on 127.0.0.1; SHA-256 compared.</summary>
public sealed class RealClientTests(RealClientFixture fixture, ITestOutputHelper output) : IClassFixture<RealClientFixture>
{
    public static readonly (string Name, int Length)[] Files =
    [
        ("empty.bin", 0),
        ("one.bin", 1),
        ("b511.bin", 511),
        ("b512.bin", 512),
        ("b513.bin", 513),
        ("x512x8.bin", 512 * 8),
        ("x1468x3.bin", 1468 * 3),
        ("boot/ipxe.efi", 300_000),
        ("random-4m.bin", 4 << 20),
    ];

    private static readonly string[] SmallFiles = ["empty.bin", "one.bin", "b511.bin", "b512.bin", "b513.bin", "x512x8.bin", "x1468x3.bin", "boot/ipxe.efi"];

    public static TheoryData<string, string> CurlCases() => Cases(["default", "blksize1468", "no-options"]);

    public static TheoryData<string, string> AtftpCases() => Cases(["default", "blksize1468+tsize", "blksize1468+windowsize8", "windowsize4+tsize"]);

    private static TheoryData<string, string> Cases(string[] variants)
    {
        var data = new TheoryData<string, string>();
        foreach (var variant in variants)
        {
            foreach (var file in SmallFiles)
            {
                data.Add(file, variant);
            }
        }

        return data;
    }

    private string Url(string file) => $"tftp://127.0.0.1:{fixture.Server.Endpoint.Port}/{file}";

    private static string[] CurlOptions(string variant) => variant switch
    {
        "blksize1468" => ["--tftp-blksize", "1468"],
        "no-options" => ["--tftp-no-options"],
        _ => [],
    };

    private static string[] AtftpOptions(string variant) => variant switch
    {
        "blksize1468+tsize" => ["--option", "blksize 1468", "--option", "tsize 0"],
        "blksize1468+windowsize8" => ["--option", "blksize 1468", "--option", "windowsize 8"],
        "blksize1468+windowsize8+tsize" => ["--option", "blksize 1468", "--option", "windowsize 8", "--option", "tsize 0"],
        "windowsize4+tsize" => ["--option", "windowsize 4", "--option", "tsize 0"],
        "blksize512" => ["--option", "blksize 512"],
        _ => [],
    };

    private async Task<TimeSpan> CurlAsync(string file, string variant, string? urlPath = null)
    {
        var curl = ExternalClient.Require("curl", "curl");
        using var download = new TempRoot();
        var target = download["out"];
        var (exit, text, elapsed) = await ExternalClient.RunAsync(curl, ["-sS", "--path-as-is", "--max-time", "120", "-o", target, .. CurlOptions(variant), Url(urlPath ?? file)]);
        Assert.True(exit == 0, $"curl exited {exit}: {text}");
        // curl does not create the output file for an empty download.
        var content = File.Exists(target) ? await File.ReadAllBytesAsync(target) : [];
        Assert.Equal(fixture.Hashes[file], TempRoot.Sha256(content));
        return elapsed;
    }

    private async Task<TimeSpan> AtftpAsync(string file, string variant)
    {
        var atftp = ExternalClient.Require("atftp", "atftp");
        using var download = new TempRoot();
        var target = download["out"];
        var (exit, text, elapsed) = await ExternalClient.RunAsync(atftp, ["-g", "-r", file, "-l", target, .. AtftpOptions(variant), "127.0.0.1", fixture.Server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, $"atftp exited {exit}: {text}");
        Assert.Equal(fixture.Hashes[file], TempRoot.Sha256(await File.ReadAllBytesAsync(target)));
        return elapsed;
    }

    [Theory]
    [MemberData(nameof(CurlCases))]
    public Task Curl_Downloads(string file, string variant) => CurlAsync(file, variant);

    [Theory]
    [MemberData(nameof(AtftpCases))]
    public Task Atftp_Downloads(string file, string variant) => AtftpAsync(file, variant);

    /// <summary>curl asks for the URL path minus its first slash: tftp://host//boot/ipxe.efi asks for "/boot/ipxe.efi", as PXE ROMs ask for /pxelinux.0.</summary>
    [Fact]
    public Task Curl_LeadingSlash_IsRelativeToTheRoot() => CurlAsync("boot/ipxe.efi", "default", urlPath: "/boot/ipxe.efi");

    [Theory]
    [InlineData("default")]
    [InlineData("blksize1468")]
    public async Task Curl_Downloads4MiB(string variant) =>
        output.WriteLine($"curl {variant}: 4 MiB in {(await CurlAsync("random-4m.bin", variant)).TotalMilliseconds:F0} ms");

    [Theory]
    [InlineData("blksize512")]
    [InlineData("blksize1468+tsize")]
    [InlineData("blksize1468+windowsize8+tsize")]
    public async Task Atftp_Downloads4MiB(string variant) =>
        output.WriteLine($"atftp {variant}: 4 MiB in {(await AtftpAsync("random-4m.bin", variant)).TotalMilliseconds:F0} ms");

    [Theory]
    [InlineData("/../etc/passwd", 69)] // TFTP access violation
    [InlineData("/escape", 69)] // symlink inside the root pointing at /etc/passwd
    [InlineData("/a/../../x", 69)]
    [InlineData("/missing.bin", 68)] // TFTP file not found
    [InlineData("/dir", 68)]
    public async Task Curl_Refused_NoData(string path, int expectedExit)
    {
        var curl = ExternalClient.Require("curl", "curl");
        using var download = new TempRoot();
        var target = download["out"];
        var (exit, text, _) = await ExternalClient.RunAsync(curl, ["-sS", "--path-as-is", "--max-time", "30", "-o", target, $"tftp://127.0.0.1:{fixture.Server.Endpoint.Port}{path}"]);
        Assert.True(exit == expectedExit, $"curl exited {exit}, expected {expectedExit}: {text}");
        Assert.True(!File.Exists(target) || new FileInfo(target).Length == 0);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("escape")]
    [InlineData("missing.bin")]
    public async Task Atftp_Refused_NoData(string file)
    {
        var atftp = ExternalClient.Require("atftp", "atftp");
        using var download = new TempRoot();
        var target = download["out"];
        var (exit, text, _) = await ExternalClient.RunAsync(atftp, ["-g", "-r", file, "-l", target, "127.0.0.1", fixture.Server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(30));
        Assert.True(exit != 0, $"atftp succeeded: {text}");
        Assert.True(!File.Exists(target) || new FileInfo(target).Length == 0);
    }
}
