using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Transfers;

/// <summary>What <see cref="ReadTransfer"/> wants sent: the OACK, or DATA blocks <c>First..Last</c> (absolute numbers, 1-based).</summary>
internal readonly record struct Transmission(bool OptionAck, long First, long Last);

internal enum AckOutcome
{
    /// <summary>Duplicate, stale or out-of-window: nothing to send (never resend on a duplicate ACK: Sorcerer's Apprentice, RFC 1123 §4.2.3.1).</summary>
    Ignored,

    /// <summary>The window moved: send <see cref="ReadTransfer.NextTransmission"/>.</summary>
    Progress,

    /// <summary>The last block is acknowledged: the transfer is over.</summary>
    Completed,
}

internal enum TimeoutOutcome
{
    /// <summary>Send <see cref="ReadTransfer.NextTransmission"/> again and wait <see cref="ReadTransfer.CurrentTimeout"/>.</summary>
    Retransmit,

    /// <summary>Too many retransmissions of the same window: abandon the transfer.</summary>
    GiveUp,
}

/// <summary>
/// The sending side of one read transfer as a pure state machine (no socket, no clock): the transport
/// feeds it ACKs and timeouts and sends what it asks for.
/// <list type="bullet">
/// <item>Blocks are numbered 1..<see cref="TotalBlocks"/> internally (64-bit); on the wire the number is
/// the low 16 bits, so long transfers roll over from 65535 to 0, as tftpd-hpa, curl, atftp and iPXE expect.</item>
/// <item>A file whose length is a multiple of the block size ends with an empty block (RFC 1350 §6).</item>
/// <item>Window (RFC 7440): up to <c>WindowSize</c> blocks are sent, then an ACK is awaited. An ACK of any
/// block in the window moves the window to the block after it (the client acknowledges the last block
/// it got in order), and the next window is sent from there at once.</item>
/// <item>Only an ACK that moves the window triggers a send; a timeout resends the whole window (or the
/// OACK) and doubles the wait, unless the client set the timeout option.</item>
/// </list>
/// </summary>
internal sealed class ReadTransfer
{
    private readonly TimeSpan _baseTimeout;
    private readonly bool _backOff;
    private readonly int _maxRetransmissions;
    private long _sentUpTo;

    public ReadTransfer(long fileLength, TftpNegotiatedOptions options, TftpLimits limits)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        BlockSize = options.BlockSize;
        WindowSize = options.WindowSize;
        FileLength = fileLength;
        TotalBlocks = (fileLength / BlockSize) + 1;
        IsOptionAckPending = options.Acknowledged.Count > 0;
        _backOff = options.Timeout is null;
        _baseTimeout = options.Timeout ?? limits.InitialTimeout;
        _maxRetransmissions = limits.MaxRetransmissions;
        CurrentTimeout = _baseTimeout;
    }

    public int BlockSize { get; }

    public int WindowSize { get; }

    public long FileLength { get; }

    /// <summary>Number of DATA blocks, the last one shorter than <see cref="BlockSize"/> (possibly empty).</summary>
    public long TotalBlocks { get; }

    /// <summary>The OACK was sent or is to be sent, and ACK 0 has not come yet.</summary>
    public bool IsOptionAckPending { get; private set; }

    /// <summary>Highest block acknowledged (0 = none).</summary>
    public long Acknowledged { get; private set; }

    public bool IsCompleted => Acknowledged == TotalBlocks;

    /// <summary>True while the only block left to acknowledge is the last one: a timeout then usually means the final ACK was lost.</summary>
    public bool IsAwaitingFinalAck => !IsOptionAckPending && _sentUpTo == TotalBlocks && Acknowledged < TotalBlocks;

    /// <summary>How long to wait for an ACK after the current transmission.</summary>
    public TimeSpan CurrentTimeout { get; private set; }

    /// <summary>Retransmissions of the current window so far (reset by progress).</summary>
    public int Retransmissions { get; private set; }

    /// <summary>Retransmissions over the whole transfer.</summary>
    public int TotalRetransmissions { get; private set; }

    /// <summary>What to send now (the first transmission, after progress, or after a timeout).</summary>
    public Transmission NextTransmission()
    {
        if (IsOptionAckPending)
        {
            return new Transmission(true, 0, -1);
        }

        var first = Acknowledged + 1;
        var last = Math.Min(Acknowledged + WindowSize, TotalBlocks);
        _sentUpTo = last;
        return new Transmission(false, first, last);
    }

    /// <summary>Byte range of block <paramref name="block"/> (absolute) in the file.</summary>
    public (long Offset, int Count) GetBlockRange(long block)
    {
        var offset = (block - 1) * BlockSize;
        return (offset, (int)Math.Min(BlockSize, FileLength - offset));
    }

    public static ushort ToWire(long block) => unchecked((ushort)block);

    public AckOutcome OnAck(ushort block)
    {
        if (IsOptionAckPending)
        {
            if (block != 0)
            {
                return AckOutcome.Ignored;
            }

            IsOptionAckPending = false;
            MadeProgress();
            return AckOutcome.Progress;
        }

        // How far past the last acknowledged block this ACK is, modulo 2^16: 1..(sent - acknowledged) moves the window.
        var delta = (ushort)(block - ToWire(Acknowledged));
        if (delta == 0 || delta > _sentUpTo - Acknowledged)
        {
            return AckOutcome.Ignored;
        }

        Acknowledged += delta;
        MadeProgress();
        return IsCompleted ? AckOutcome.Completed : AckOutcome.Progress;
    }

    public TimeoutOutcome OnTimeout()
    {
        if (Retransmissions >= _maxRetransmissions)
        {
            return TimeoutOutcome.GiveUp;
        }

        Retransmissions++;
        TotalRetransmissions++;
        if (_backOff)
        {
            var doubled = CurrentTimeout * 2;
            CurrentTimeout = doubled > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : doubled;
        }

        return TimeoutOutcome.Retransmit;
    }

    private void MadeProgress()
    {
        Retransmissions = 0;
        CurrentTimeout = _baseTimeout;
    }
}
