using NekkoMetal.BootServer.Boot;

namespace NekkoMetal.BootServer.Tests;

/// <summary>Golden renderings of every iPXE template, and injection attempts. Set UPDATE_GOLDEN=1 to rewrite the files.</summary>
public sealed class IpxeScriptTests
{
    private static readonly IpxeScripts Scripts = new();

    public static TheoryData<string> Templates() => new(Scripts.Names);

    private static Dictionary<string, string> Sample() => new()
    {
        ["base"] = "http://10.69.0.254:8080",
        ["serial"] = "SN-0001",
        ["mac"] = "52:54:00:12:34:56",
        ["token"] = "nekkoboot_AbCdEf0123456789-_",
        ["cmdline"] = "console=ttyS0 panic=-1",
        ["role"] = "worker",
        ["version"] = "3",
        ["kernel"] = "debian-vmlinuz",
    };

    private static Dictionary<string, IReadOnlyList<string>> SampleLists() => new() { ["initrd"] = ["debian-initrd.img", "overlay.cpio.gz"] };

    [Theory]
    [MemberData(nameof(Templates))]
    public void Rendering_MatchesTheGoldenFile(string template)
    {
        var rendered = Scripts.Render(template, Sample(), SampleLists());
        Assert.StartsWith("#!ipxe\n", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", rendered, StringComparison.Ordinal);
        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", template);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            var source = Path.Combine(AppContext.BaseDirectory, "../../../Golden", template);
            File.WriteAllText(source, rendered);
            return;
        }

        Assert.True(File.Exists(golden), $"no golden file for {template}: run the tests once with UPDATE_GOLDEN=1 and review the result");
        Assert.Equal(File.ReadAllText(golden), rendered);
    }

    [Theory]
    [InlineData("serial", "SN1\nshell")]
    [InlineData("serial", "SN1 || shell")]
    [InlineData("base", "http://x/${net0/mac}")]
    [InlineData("mac", "52:54:00:12:34:56\"")]
    [InlineData("cmdline", "quiet\nshell")]
    [InlineData("cmdline", "quiet ${shell}")]
    public void ValuesThatIpxeWouldInterpret_AreRefused(string name, string value)
    {
        var values = Sample();
        values[name] = value;
        var template = name switch { "serial" => "localboot.ipxe", "base" => "boot.ipxe", _ => "discovery.ipxe" };
        Assert.Throws<ArgumentException>(() => Scripts.Render(template, values));
    }

    [Theory]
    [InlineData("quiet ; shell")]
    [InlineData("quiet || shell")]
    [InlineData("quiet && shell")]
    [InlineData("quiet #shell")]
    [InlineData("quiet 'shell'")]
    public void CommandLineWordsThatIpxeWouldRead_AreRefused(string cmdline)
    {
        var values = Sample();
        values["cmdline"] = cmdline;
        Assert.Throws<ArgumentException>(() => Scripts.Render("install.ipxe", values, SampleLists()));
    }

    [Fact]
    public void InstallScript_RepeatsTheInitrdLinePerInitrd_AndLeavesItOutForNone()
    {
        var two = Scripts.Render("install.ipxe", Sample(), SampleLists());
        Assert.Contains("initrd --name debian-initrd.img http://10.69.0.254:8080/boot/assets/debian-initrd.img\n" +
            "initrd --name overlay.cpio.gz http://10.69.0.254:8080/boot/assets/overlay.cpio.gz\nboot", two, StringComparison.Ordinal);
        var none = Scripts.Render("install.ipxe", Sample(), new Dictionary<string, IReadOnlyList<string>> { ["initrd"] = [] });
        Assert.DoesNotContain("initrd --name", none, StringComparison.Ordinal);
        Assert.EndsWith("console=ttyS0 panic=-1\nboot\n", none, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Scripts.Render("install.ipxe", Sample(), new Dictionary<string, IReadOnlyList<string>> { ["initrd"] = ["a b"] }));
    }

    [Fact]
    public void MissingValue_IsAnError_NotAnEmptyHole()
    {
        Assert.Throws<InvalidOperationException>(() => Scripts.Render("discovery.ipxe", new Dictionary<string, string> { ["base"] = "http://x" }));
    }
}
