using System.Net;
using System.Text;
using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Tests.Infrastructure;

namespace NekkoMetal.Tftp.Tests.Server;

/// <summary>The server on a real UDP socket (127.0.0.1, a free port) against <see cref="TestTftpClient"/>.</summary>
public sealed class TftpServerTests : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);
    private readonly TempRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(1468 * 3)]
    [InlineData(100_000)]
    public async Task Download_LockStep_ContentMatches(int length)
    {
        var content = _root.AddFile("f.bin", length);
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        var (received, oack) = await client.DownloadAsync("f.bin");
        Assert.Null(oack);
        Assert.Equal(content, received);
        await server.WaitIdleAsync();
        Assert.True(server.Logs.Has(EventIds.TransferCompleted));
    }

    [Theory]
    [InlineData(0, "1468", "1")]
    [InlineData(1468 * 8, "1468", "8")]
    [InlineData(300_001, "1468", "8")]
    [InlineData(300_001, "8192", "4")]
    [InlineData(300_001, "512", "64")]
    public async Task Download_WithOptions_ContentAndOackMatch(int length, string blockSize, string windowSize)
    {
        var content = _root.AddFile("f.bin", length);
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        var (received, oack) = await client.DownloadAsync("f.bin", ("tsize", "0"), ("blksize", blockSize), ("windowsize", windowSize), ("x-unknown", "1"), ("timeout", "3"));
        Assert.Equal(content, received);
        Assert.NotNull(oack);
        List<TftpOption> expected = [new("blksize", blockSize), new("windowsize", windowSize), new("timeout", "3")];
        if (length > 0)
        {
            expected.Insert(0, new("tsize", length.ToString(System.Globalization.CultureInfo.InvariantCulture))); // not announced for an empty file (curl)
        }

        Assert.Equal(expected, oack.Options);
    }

    [Fact]
    public async Task Download_BlockNumbersRollOver()
    {
        var content = _root.AddFile("big.bin", 8 * 70_000 + 3); // 70,001 blocks of 8 bytes
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        var (received, _) = await client.DownloadAsync("big.bin", ("blksize", "8"), ("windowsize", "64"));
        Assert.Equal(content, received);
    }

    [Fact]
    public async Task Data_ComesFromANewPortPerTransfer_AndStrangersAreIgnored()
    {
        _root.AddFile("f.bin", 2000);
        await using var server = await TftpTestServer.StartAsync(_root.Path, new RecordingTimeProvider());
        using var client = new TestTftpClient(server.Endpoint);
        using var stranger = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (data, tid) = await client.ExpectAsync<TftpData>();
        Assert.Equal(1, data.Block);
        Assert.NotEqual(server.Endpoint.Port, tid.Port);
        Assert.Equal(IPAddress.Loopback, tid.Address);

        stranger.Send(new TftpAck(1), tid); // another transfer ID: dropped by the connected socket
        await client.ExpectNothingAsync(Quiet);
        await stranger.ExpectNothingAsync(TimeSpan.FromMilliseconds(50));

        client.Send(new TftpAck(1), tid);
        var (data2, from2) = await client.ExpectAsync<TftpData>();
        Assert.Equal(2, data2.Block);
        Assert.Equal(tid, from2);
    }

    [Fact]
    public async Task Retransmission_BacksOffExponentially_ThenGivesUp()
    {
        _root.AddFile("f.bin", 2000);
        var time = new RecordingTimeProvider();
        await using var server = await TftpTestServer.StartAsync(_root.Path, time);
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (first, tid) = await client.ExpectAsync<TftpData>();
        Assert.Equal(1, first.Block);

        foreach (var wait in new[] { 1, 2, 4, 8, 16 })
        {
            Assert.Equal(TimeSpan.FromSeconds(wait), await time.NextTimerAsync());
            time.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1));
            await client.ExpectNothingAsync(TimeSpan.FromMilliseconds(100)); // not before its time
            time.Advance(TimeSpan.FromMilliseconds(1));
            var (again, from) = await client.ExpectAsync<TftpData>();
            Assert.Equal(1, again.Block);
            Assert.Equal(tid, from);
        }

        Assert.Equal(TimeSpan.FromSeconds(32), await time.NextTimerAsync()); // the 5th retransmission's wait
        time.Advance(TimeSpan.FromSeconds(32));
        await client.ExpectNothingAsync(Quiet); // given up: no 6th retransmission, no error packet
        await server.WaitIdleAsync();
        Assert.True(server.Logs.Has(EventIds.TransferTimedOut));
    }

    [Fact]
    public async Task LostAck_TheBlockIsSentAgain_AndTheTransferCompletes()
    {
        var content = _root.AddFile("f.bin", 1500);
        var time = new RecordingTimeProvider();
        await using var server = await TftpTestServer.StartAsync(_root.Path, time);
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (b1, tid) = await client.ExpectAsync<TftpData>();
        Assert.Equal(TimeSpan.FromSeconds(1), await time.NextTimerAsync());
        client.Send(new TftpAck(1), tid);
        var (b2, _) = await client.ExpectAsync<TftpData>();
        Assert.Equal(2, b2.Block);

        // The ACK of block 2 is "lost": the server sends block 2 again after its timeout.
        Assert.Equal(TimeSpan.FromSeconds(1), await time.NextTimerAsync());
        time.Advance(TimeSpan.FromSeconds(1));
        var (b2Again, _) = await client.ExpectAsync<TftpData>();
        Assert.Equal(2, b2Again.Block);
        Assert.Equal(b2.Payload.ToArray(), b2Again.Payload.ToArray());

        client.Send(new TftpAck(2), tid);
        var (b3, _) = await client.ExpectAsync<TftpData>();
        Assert.Equal(3, b3.Block);
        client.Send(new TftpAck(3), tid);
        Assert.Equal(content, b1.Payload.ToArray().Concat(b2.Payload.ToArray()).Concat(b3.Payload.ToArray()).ToArray());
        await server.WaitIdleAsync();
        Assert.True(server.Logs.Has(EventIds.TransferCompleted));
    }

    [Fact]
    public async Task LostAckOfTheOack_TheOackIsSentAgain()
    {
        _root.AddFile("f.bin", 10);
        var time = new RecordingTimeProvider();
        await using var server = await TftpTestServer.StartAsync(_root.Path, time);
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin", ("tsize", "0")));
        var (oack, tid) = await client.ExpectAsync<TftpOptionAck>();
        Assert.Equal([new("tsize", "10")], oack.Options);
        Assert.Equal(TimeSpan.FromSeconds(1), await time.NextTimerAsync());
        time.Advance(TimeSpan.FromSeconds(1));
        await client.ExpectAsync<TftpOptionAck>();
        client.Send(new TftpAck(0), tid);
        var (data, _) = await client.ExpectAsync<TftpData>();
        Assert.Equal(10, data.Payload.Length);
        client.Send(new TftpAck(1), tid);
        await server.WaitIdleAsync();
    }

    [Fact]
    public async Task DuplicateAck_IsNotAnswered()
    {
        _root.AddFile("f.bin", 2000);
        await using var server = await TftpTestServer.StartAsync(_root.Path, new RecordingTimeProvider());
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (_, tid) = await client.ExpectAsync<TftpData>();
        client.Send(new TftpAck(1), tid);
        await client.ExpectAsync<TftpData>(); // block 2
        client.Send(new TftpAck(1), tid); // duplicate: answering it would start the Sorcerer's Apprentice
        await client.ExpectNothingAsync(Quiet);
        client.Send(new TftpAck(2), tid);
        var (b3, _) = await client.ExpectAsync<TftpData>();
        Assert.Equal(3, b3.Block);
    }

    [Fact]
    public async Task Window_LostBlock_ResentFromTheClientsAck()
    {
        var content = _root.AddFile("f.bin", 512 * 9 + 100); // 10 blocks
        await using var server = await TftpTestServer.StartAsync(_root.Path, new RecordingTimeProvider());
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin", ("windowsize", "4")));
        var (_, tid) = await client.ExpectAsync<TftpOptionAck>();
        client.Send(new TftpAck(0), tid);
        var got1 = await ReceiveBlocks(client, 4);
        Assert.Equal(new[] { 1, 2, 3, 4 }, got1);

        client.Send(new TftpAck(2), tid); // "block 3 was lost"
        var got3 = await ReceiveBlocks(client, 4);
        Assert.Equal(new[] { 3, 4, 5, 6 }, got3);
        client.Send(new TftpAck(6), tid);
        var got7 = await ReceiveBlocks(client, 4);
        Assert.Equal(new[] { 7, 8, 9, 10 }, got7);
        client.Send(new TftpAck(10), tid);
        await client.ExpectNothingAsync(Quiet);
        await server.WaitIdleAsync();
        Assert.True(server.Logs.Has(EventIds.TransferCompleted));
        _ = content;
    }

    private static async Task<int[]> ReceiveBlocks(TestTftpClient client, int count)
    {
        var blocks = new int[count];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = (await client.ExpectAsync<TftpData>()).Packet.Block;
        }

        return blocks;
    }

    [Fact]
    public async Task WriteRequest_AccessViolation()
    {
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(new TftpRequest(TftpOpcode.WriteRequest, "upload-name", TftpTransferMode.Octet));
        var (error, _) = await client.ExpectAsync<TftpError>();
        Assert.Equal(TftpErrorCode.AccessViolation, error.Code);
        Assert.DoesNotContain("upload-name", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_root["upload-name"]));
        Assert.True(server.Logs.Has(EventIds.WriteRequestRefused));
    }

    [Theory]
    [InlineData(TftpTransferMode.NetAscii)]
    [InlineData(TftpTransferMode.Mail)]
    public async Task NonOctetMode_IllegalOperation(TftpTransferMode mode)
    {
        _root.AddFile("f.txt", 10);
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(new TftpRequest(TftpOpcode.ReadRequest, "f.txt", mode));
        var (error, _) = await client.ExpectAsync<TftpError>();
        Assert.Equal(TftpErrorCode.IllegalOperation, error.Code);
    }

    public static TheoryData<string, byte[], TftpErrorCode> HostileRequests()
    {
        static byte[] Rrq(string name) => [0, 1, .. Encoding.UTF8.GetBytes(name), 0, .. "octet"u8, 0];
        return new TheoryData<string, byte[], TftpErrorCode>
        {
            { "../etc/passwd", Rrq("../etc/passwd"), TftpErrorCode.AccessViolation },
            { "a/../../x", Rrq("a/../../x"), TftpErrorCode.AccessViolation },
            { "//etc/passwd", Rrq("//etc/passwd"), TftpErrorCode.AccessViolation },
            { "/etc/passwd (root-relative: absent)", Rrq("/etc/passwd"), TftpErrorCode.FileNotFound },
            { "backslashes", Rrq("..\\..\\etc\\passwd"), TftpErrorCode.AccessViolation },
            { "symlink inside pointing out", Rrq("escape"), TftpErrorCode.AccessViolation },
            { "directory symlink pointing out", Rrq("etc-link/passwd"), TftpErrorCode.AccessViolation },
            { "control character", Rrq("pub\u0001.bin"), TftpErrorCode.AccessViolation },
            { "newline", Rrq("pub.bin\n"), TftpErrorCode.AccessViolation },
            { "NUL in the name", [0, 1, .. "pub.bin"u8, 0, .. "../../etc/passwd"u8, 0, .. "octet"u8, 0], TftpErrorCode.IllegalOperation },
            { "over-long name", Rrq(new string('a', 300)), TftpErrorCode.FileNotFound },
            { "not UTF-8", [0, 1, 0xC0, 0xAF, .. "etc/passwd"u8, 0, .. "octet"u8, 0], TftpErrorCode.IllegalOperation },
            { "a directory", Rrq("dir"), TftpErrorCode.FileNotFound },
            { "the root", Rrq("/"), TftpErrorCode.FileNotFound },
        };
    }

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task HostileNames_ErrorPacket_NoData(string description, byte[] datagram, TftpErrorCode code)
    {
        _root.AddFile("pub.bin", 10);
        Directory.CreateDirectory(_root["dir"]);
        File.CreateSymbolicLink(_root["escape"], "/etc/passwd");
        Directory.CreateSymbolicLink(_root["etc-link"], "/etc");
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        client.SendRaw(datagram);
        var (error, _) = await client.ExpectAsync<TftpError>();
        Assert.True(code == error.Code, $"{description}: expected {code}, got {error.Code}");
        Assert.DoesNotContain("passwd", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("etc", error.Message, StringComparison.Ordinal);
        await client.ExpectNothingAsync(TimeSpan.FromMilliseconds(200)); // and no DATA after it
        await server.WaitIdleAsync();
    }

    [Fact]
    public async Task FileOverMaxFileSize_Refused()
    {
        _root.AddFile("big.bin", 2000);
        await using var server = await TftpTestServer.StartAsync(_root.Path, limits: new TftpLimits { MaxFileSize = 1999 });
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("big.bin"));
        var (error, _) = await client.ExpectAsync<TftpError>();
        Assert.Equal(TftpErrorCode.NotDefined, error.Code);
        Assert.True(server.Logs.Has(EventIds.FileTooLarge));
    }

    [Fact]
    public async Task ConcurrencyLimit_ExtraRequestsDropped_UntilASlotFrees()
    {
        _root.AddFile("f.bin", 5000);
        var time = new RecordingTimeProvider(); // held transfers never time out on their own
        await using var server = await TftpTestServer.StartAsync(_root.Path, time, new TftpLimits { MaxConcurrentTransfers = 2 });
        using var a = new TestTftpClient(server.Endpoint);
        using var b = new TestTftpClient(server.Endpoint);
        using var c = new TestTftpClient(server.Endpoint);
        a.Send(TestTftpClient.ReadRequest("f.bin"));
        var (_, tidA) = await a.ExpectAsync<TftpData>();
        b.Send(TestTftpClient.ReadRequest("f.bin"));
        await b.ExpectAsync<TftpData>();
        Assert.Equal(2, server.Server.ActiveTransfers);

        c.Send(TestTftpClient.ReadRequest("f.bin"));
        await c.ExpectNothingAsync(Quiet); // dropped silently: the client retransmits its request
        Assert.True(server.Logs.Has(EventIds.ServerBusy));
        Assert.Equal(2, server.Server.ActiveTransfers);

        a.Send(new TftpError(TftpErrorCode.NotDefined, "cancelled"), tidA); // a client gives up: its slot frees
        await server.WaitIdleAsync(1);
        Assert.True(server.Logs.Has(EventIds.ClientAborted));

        c.Send(TestTftpClient.ReadRequest("f.bin")); // the retransmitted request is served now
        var (data, _) = await c.ExpectAsync<TftpData>();
        Assert.Equal(1, data.Block);
        Assert.Equal(2, server.Server.ActiveTransfers);
    }

    [Fact]
    public async Task RetransmittedRequest_DoesNotStartASecondTransfer()
    {
        _root.AddFile("f.bin", 5000);
        await using var server = await TftpTestServer.StartAsync(_root.Path, new RecordingTimeProvider());
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (_, tid) = await client.ExpectAsync<TftpData>();
        client.Send(TestTftpClient.ReadRequest("f.bin")); // as if the first DATA were late
        await client.ExpectNothingAsync(Quiet);
        Assert.Equal(1, server.Server.ActiveTransfers);
        Assert.True(server.Logs.Has(EventIds.DuplicateRequest));

        // Once the transfer has made progress, a new request from the same port replaces it.
        client.Send(new TftpAck(1), tid);
        await client.ExpectAsync<TftpData>();
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        var (restart, tid2) = await client.ExpectAsync<TftpData>();
        Assert.Equal(1, restart.Block);
        Assert.NotEqual(tid, tid2);
        await server.WaitIdleAsync(1);
        Assert.True(server.Logs.Has(EventIds.TransferSuperseded));
    }

    [Fact]
    public async Task JunkDatagrams_AreDropped_AndTheServerKeepsServing()
    {
        var content = _root.AddFile("f.bin", 3000);
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var junk = new TestTftpClient(server.Endpoint);
        var random = new Random(1350);
        junk.SendRaw([]);
        junk.SendRaw(new byte[65000]); // larger than any packet the listener takes
        junk.SendRaw([0, 3, 0, 1, 1, 2, 3]); // DATA to the listener
        junk.SendRaw([0, 4, 0, 1]); // ACK to the listener
        junk.SendRaw([0, 5, 0, 1, 0]); // ERROR to the listener
        junk.SendRaw([0, 6, 0]); // malformed OACK
        for (var i = 0; i < 300; i++)
        {
            var datagram = new byte[random.Next(0, 600)];
            random.NextBytes(datagram);
            if (datagram.Length >= 2 && datagram[0] == 0 && datagram[1] is 1 or 2)
            {
                datagram[1] = 9; // keep requests out of the junk: they are answered
            }

            junk.SendRaw(datagram);
        }

        await junk.ExpectNothingAsync(Quiet); // junk is never answered
        using var client = new TestTftpClient(server.Endpoint);
        var (received, _) = await client.DownloadAsync("f.bin");
        Assert.Equal(content, received);
        Assert.True(server.Logs.Has(EventIds.JunkDatagram));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task MalformedRequest_IllegalOperation_FromTheListener()
    {
        await using var server = await TftpTestServer.StartAsync(_root.Path);
        using var client = new TestTftpClient(server.Endpoint);
        client.SendRaw([0, 1, .. "f.bin"u8, 0, .. "octet"u8, 0, .. "blksize"u8, 0]); // option without value
        var (error, from) = await client.ExpectAsync<TftpError>();
        Assert.Equal(TftpErrorCode.IllegalOperation, error.Code);
        Assert.Equal(server.Endpoint, from);
        Assert.True(server.Logs.Has(EventIds.MalformedRequest));
    }

    [Fact]
    public async Task Shutdown_StopsRunningTransfers_WithAnErrorPacket()
    {
        _root.AddFile("f.bin", 5000);
        var server = await TftpTestServer.StartAsync(_root.Path, new RecordingTimeProvider());
        using var client = new TestTftpClient(server.Endpoint);
        client.Send(TestTftpClient.ReadRequest("f.bin"));
        await client.ExpectAsync<TftpData>();
        var stopping = server.DisposeAsync().AsTask();
        var (error, _) = await client.ExpectAsync<TftpError>();
        Assert.Equal(TftpErrorCode.NotDefined, error.Code);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.Server.ActiveTransfers);
        Assert.True(server.Logs.Has(EventIds.TransferStoppedByShutdown));
        Assert.True(server.Logs.Has(EventIds.ListenerStopped));
    }
}
