using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Tests.Protocol;

public class TftpOptionNegotiationTests
{
    private static List<TftpOption> Options(string spec) =>
        spec.Length == 0 ? [] : spec.Split(';').Select(p => p.Split('=', 2)).Select(p => new TftpOption(p[0], p[1])).ToList();

    private static string Format(IEnumerable<TftpOption> options) => string.Join(';', options.Select(o => $"{o.Name}={o.Value}"));

    [Theory]
    [InlineData("", "", 512, 1, 0)]
    [InlineData("blksize=1468", "blksize=1468", 1468, 1, 0)]
    [InlineData("BLKSIZE=1468", "blksize=1468", 1468, 1, 0)]
    [InlineData("blksize=8", "blksize=8", 8, 1, 0)]
    [InlineData("blksize=7", "", 512, 1, 0)] // below RFC 2348's minimum: ignored
    [InlineData("blksize=65464", "blksize=65464", 65464, 1, 0)]
    [InlineData("blksize=70000", "blksize=65464", 65464, 1, 0)] // clamped
    [InlineData("blksize=abc", "", 512, 1, 0)]
    [InlineData("blksize=+512", "", 512, 1, 0)]
    [InlineData("blksize= 512", "", 512, 1, 0)]
    [InlineData("blksize=0x200", "", 512, 1, 0)]
    [InlineData("blksize=", "", 512, 1, 0)]
    [InlineData("blksize=99999999999999999999", "", 512, 1, 0)]
    [InlineData("tsize=0", "tsize=1234", 512, 1, 0)]
    [InlineData("tsize=enable", "tsize=1234", 512, 1, 0)] // atftp's literal "enable"
    [InlineData("timeout=1", "timeout=1", 512, 1, 1)]
    [InlineData("timeout=255", "timeout=255", 512, 1, 255)]
    [InlineData("timeout=0", "", 512, 1, 0)] // RFC 2349: 1..255, never answered with another value
    [InlineData("timeout=256", "", 512, 1, 0)]
    [InlineData("windowsize=8", "windowsize=8", 512, 8, 0)]
    [InlineData("windowsize=0", "", 512, 1, 0)]
    [InlineData("windowsize=65535", "windowsize=64", 512, 64, 0)] // clamped to the default MaxWindowSize
    [InlineData("multicast=", "", 512, 1, 0)] // unknown options are ignored, not acknowledged (RFC 2347)
    [InlineData("x-vendor=1;blksize=1024", "blksize=1024", 1024, 1, 0)]
    [InlineData("tsize=0;blksize=1468;timeout=1;windowsize=8", "tsize=1234;blksize=1468;timeout=1;windowsize=8", 1468, 8, 1)]
    public void Negotiate_Table(string requested, string acknowledged, int blockSize, int windowSize, int timeoutSeconds)
    {
        var result = TftpOptionNegotiation.Negotiate(Options(requested), 1234, TftpLimits.Default);
        Assert.Equal(acknowledged, Format(result.Acknowledged));
        Assert.Equal(blockSize, result.BlockSize);
        Assert.Equal(windowSize, result.WindowSize);
        Assert.Equal(timeoutSeconds == 0 ? null : TimeSpan.FromSeconds(timeoutSeconds), result.Timeout);
        Assert.Equal(acknowledged.Length == 0, result.ToOptionAck() is null);
    }

    [Theory]
    [InlineData("blksize=9000", "blksize=1468")]
    [InlineData("blksize=1000", "blksize=1000")]
    [InlineData("windowsize=16", "windowsize=4")]
    [InlineData("windowsize=2", "windowsize=2")]
    public void Negotiate_ClampsToConfiguredLimits(string requested, string acknowledged)
    {
        var limits = new TftpLimits { MaxBlockSize = 1468, MaxWindowSize = 4 };
        Assert.Equal(acknowledged, Format(TftpOptionNegotiation.Negotiate(Options(requested), 0, limits).Acknowledged));
    }

    [Fact]
    public void Negotiate_TransferSizeOfAnEmptyFile_IsNotAcknowledged()
    {
        // curl aborts on "tsize 0" in an OACK; without it, curl reads the single empty block.
        var result = TftpOptionNegotiation.Negotiate(Options("tsize=0;blksize=1468"), 0, TftpLimits.Default);
        Assert.Equal("blksize=1468", Format(result.Acknowledged));
        Assert.Null(result.TransferSize);
        Assert.Null(TftpOptionNegotiation.Negotiate(Options("tsize=0"), 0, TftpLimits.Default).ToOptionAck());
    }

    [Fact]
    public void Negotiate_TransferSize_AnnouncesFileLength()
    {
        var result = TftpOptionNegotiation.Negotiate(Options("tsize=0"), 4L << 30, TftpLimits.Default);
        Assert.Equal(4L << 30, result.TransferSize);
        Assert.Equal("tsize=4294967296", Format(result.Acknowledged));
    }
}
