using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Transfers;

namespace NekkoMetal.Tftp.Tests.Transfers;

public class ReadTransferTests
{
    private static ReadTransfer Create(long length, int blockSize = 512, int windowSize = 1, bool withOptions = false, int? timeoutSeconds = null, TftpLimits? limits = null)
    {
        var negotiated = new TftpNegotiatedOptions
        {
            BlockSize = blockSize,
            WindowSize = windowSize,
            Timeout = timeoutSeconds is null ? null : TimeSpan.FromSeconds(timeoutSeconds.Value),
            Acknowledged = withOptions ? [new TftpOption("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture))] : [],
        };
        return new ReadTransfer(length, negotiated, limits ?? TftpLimits.Default);
    }

    [Theory]
    [InlineData(0, 512, 1)]
    [InlineData(1, 512, 1)]
    [InlineData(511, 512, 1)]
    [InlineData(512, 512, 2)] // a final empty block
    [InlineData(513, 512, 2)]
    [InlineData(1024, 512, 3)]
    [InlineData(4404, 1468, 4)]
    [InlineData(4 << 20, 1468, 2858)]
    public void TotalBlocks_EndsWithAShortBlock(long length, int blockSize, long blocks)
    {
        var transfer = Create(length, blockSize);
        Assert.Equal(blocks, transfer.TotalBlocks);
        var (offset, count) = transfer.GetBlockRange(blocks);
        Assert.Equal((blocks - 1) * blockSize, offset);
        Assert.True(count < blockSize);
        Assert.Equal(length, offset + count);
    }

    [Fact]
    public void LockStep_SendsOneBlockPerAck_UntilTheLast()
    {
        var transfer = Create(1100);
        Assert.Equal(new Transmission(false, 1, 1), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(1));
        Assert.Equal(new Transmission(false, 2, 2), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(2));
        Assert.Equal(new Transmission(false, 3, 3), transfer.NextTransmission());
        Assert.True(transfer.IsAwaitingFinalAck);
        Assert.Equal(AckOutcome.Completed, transfer.OnAck(3));
        Assert.True(transfer.IsCompleted);
    }

    [Fact]
    public void DuplicateAndStrayAcks_AreIgnored()
    {
        var transfer = Create(5000);
        transfer.NextTransmission();
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(0)); // no OACK was sent: ACK 0 means nothing
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(2)); // not sent yet
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(1));
        transfer.NextTransmission();
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(1)); // duplicate: no resend (Sorcerer's Apprentice)
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(40000));
        Assert.Equal(1, transfer.Acknowledged);
    }

    [Fact]
    public void OptionAck_IsSentFirst_AndOnlyAck0MovesOn()
    {
        var transfer = Create(100, withOptions: true);
        Assert.Equal(new Transmission(true, 0, -1), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(1));
        Assert.True(transfer.IsOptionAckPending);
        Assert.Equal(TimeoutOutcome.Retransmit, transfer.OnTimeout());
        Assert.Equal(new Transmission(true, 0, -1), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(0));
        Assert.Equal(new Transmission(false, 1, 1), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Completed, transfer.OnAck(1));
    }

    [Fact]
    public void Window_AckOfAnyBlockInIt_MovesTheWindowThere()
    {
        var transfer = Create(512 * 9 + 100, windowSize: 4); // 10 blocks
        Assert.Equal(new Transmission(false, 1, 4), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(2)); // block 3 lost: the client acknowledges 2
        Assert.Equal(new Transmission(false, 3, 6), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(2)); // a stale ACK
        Assert.Equal(AckOutcome.Ignored, transfer.OnAck(7)); // beyond what was sent
        Assert.Equal(AckOutcome.Progress, transfer.OnAck(6));
        Assert.Equal(new Transmission(false, 7, 10), transfer.NextTransmission());
        Assert.Equal(AckOutcome.Completed, transfer.OnAck(10));
    }

    [Fact]
    public void Window_IsCutAtTheLastBlock()
    {
        var transfer = Create(600, windowSize: 8);
        Assert.Equal(new Transmission(false, 1, 2), transfer.NextTransmission());
        Assert.True(transfer.IsAwaitingFinalAck);
    }

    [Fact]
    public void Timeouts_BackOffExponentially_ThenGiveUp()
    {
        var transfer = Create(5000);
        transfer.NextTransmission();
        var waits = new List<double> { transfer.CurrentTimeout.TotalSeconds };
        while (transfer.OnTimeout() == TimeoutOutcome.Retransmit)
        {
            waits.Add(transfer.CurrentTimeout.TotalSeconds);
            Assert.Equal(new Transmission(false, 1, 1), transfer.NextTransmission());
        }

        Assert.Equal([1, 2, 4, 8, 16, 32], waits);
        Assert.Equal(5, transfer.Retransmissions);
        Assert.False(transfer.IsAwaitingFinalAck);
    }

    [Fact]
    public void Progress_ResetsTheBackOff()
    {
        var transfer = Create(5000);
        transfer.NextTransmission();
        transfer.OnTimeout();
        transfer.OnTimeout();
        Assert.Equal(TimeSpan.FromSeconds(4), transfer.CurrentTimeout);
        transfer.OnAck(1);
        Assert.Equal(TimeSpan.FromSeconds(1), transfer.CurrentTimeout);
        Assert.Equal(0, transfer.Retransmissions);
        Assert.Equal(2, transfer.TotalRetransmissions);
    }

    [Fact]
    public void ClientTimeoutOption_IsUsedWithoutBackOff()
    {
        var transfer = Create(5000, timeoutSeconds: 3, limits: new TftpLimits { MaxRetransmissions = 2 });
        transfer.NextTransmission();
        Assert.Equal(TimeSpan.FromSeconds(3), transfer.CurrentTimeout);
        Assert.Equal(TimeoutOutcome.Retransmit, transfer.OnTimeout());
        Assert.Equal(TimeSpan.FromSeconds(3), transfer.CurrentTimeout);
        Assert.Equal(TimeoutOutcome.Retransmit, transfer.OnTimeout());
        Assert.Equal(TimeoutOutcome.GiveUp, transfer.OnTimeout());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void BlockNumbers_RollOverPast65535(int windowSize)
    {
        var transfer = Create(8L * 70000, blockSize: 8, windowSize: windowSize); // 70001 blocks
        var sawZero = false;
        while (true)
        {
            var next = transfer.NextTransmission();
            sawZero |= ReadTransfer.ToWire(next.First) == 0 || ReadTransfer.ToWire(next.Last) == 0;
            var outcome = transfer.OnAck(ReadTransfer.ToWire(next.Last));
            if (outcome == AckOutcome.Completed)
            {
                break;
            }

            Assert.Equal(AckOutcome.Progress, outcome);
        }

        Assert.True(sawZero);
        Assert.Equal(70001, transfer.Acknowledged);
    }

    [Fact]
    public void FinalAckLost_IsRecognised()
    {
        var transfer = Create(100, limits: new TftpLimits { MaxRetransmissions = 1 });
        transfer.NextTransmission();
        Assert.True(transfer.IsAwaitingFinalAck);
        Assert.Equal(TimeoutOutcome.Retransmit, transfer.OnTimeout());
        Assert.Equal(TimeoutOutcome.GiveUp, transfer.OnTimeout());
        Assert.True(transfer.IsAwaitingFinalAck);
    }
}
