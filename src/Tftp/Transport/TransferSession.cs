using System.Buffers;
using System.Net;
using System.Net.Sockets;
using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Transfers;

namespace NekkoMetal.Tftp.Transport;

/// <summary>
/// One read transfer on its own UDP socket: bound to the local address the request arrived on, an
/// ephemeral port (the server's transfer ID, RFC 1350 §4) and connected to the client's address and
/// port, so the kernel drops datagrams from any other transfer ID (RFC 1350 asks for an ERROR 5 to
/// such strays; dropping them keeps a stranger from costing the transfer anything). The protocol
/// decisions are <see cref="ReadTransfer"/>'s; this class moves bytes and keeps time, only through
/// the <see cref="TimeProvider"/>.
/// </summary>
internal sealed class TransferSession
{
    /// <summary>Room for an ACK, and for an ERROR with a long message (truncated past it, harmlessly).</summary>
    private const int ReceiveBufferSize = 1024;

    private readonly TransferServices _services;
    private readonly TftpRequest _request;
    private readonly IPAddress? _localAddress;
    private readonly CancellationTokenSource _abort;
    private readonly string _logName;
    private volatile bool _superseded;
    private volatile bool _hasProgress;

    public TransferSession(TransferServices services, TftpRequest request, IPEndPoint client, IPAddress? localAddress, CancellationToken stoppingToken)
    {
        _services = services;
        _request = request;
        Client = client;
        _localAddress = localAddress;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _logName = LogText.Safe(request.FileName);
    }

    public IPEndPoint Client { get; }

    public string FileName => _request.FileName;

    /// <summary>The client acknowledged something: a new request from it is no longer a retransmission of this one.</summary>
    public bool HasProgress => _hasProgress;

    /// <summary>Ends when the transfer ends; never faults.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Runs the transfer on a thread of its own, blocked in the socket's receive between ACKs: one wake-up per
    /// ACK, where an awaited receive costs a hop through the socket engine and another through the thread pool
    /// (measured by bench/assets.sh: lock-step transfers took twice atftpd's time that way). The thread count is
    /// bounded by <see cref="TftpLimits.MaxConcurrentTransfers"/>.
    /// </summary>
    public void Start(Action<TransferSession> onEnded)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Completion = done.Task;
        var thread = new Thread(() =>
        {
            try
            {
                Run();
            }
            finally
            {
                onEnded(this);
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = "tftp transfer",
        };
        thread.Start();
    }

    /// <summary>The client sent a new request from the same port: it has given up on this transfer.</summary>
    public void Supersede()
    {
        _superseded = true;
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already over.
        }
    }

    private void Run()
    {
        var logger = _services.Logger;
        var token = _abort.Token;
        var result = TransferResult.Failed;
        Socket? socket = null;
        try
        {
            socket = CreateSocket();
            result = Serve(socket, token);
        }
        catch (SocketException e) when (socket is null)
        {
            TftpServer.Log.TransferSocketFailed(logger, Client, _logName, e.SocketErrorCode);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (_superseded)
            {
                result = TransferResult.Superseded;
            }
            else
            {
                result = TransferResult.Shutdown;
                TftpServer.Log.TransferStoppedByShutdown(logger, Client, _logName);
                TrySend(socket, RequestScreening.ShuttingDown);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The transfer boundary: one failed transfer is logged, the server carries on.
            TftpServer.Log.TransferFailed(logger, Client, _logName, e);
            TrySend(socket, RequestScreening.ServerError);
        }
        finally
        {
            socket?.Dispose();
            _abort.Dispose();
            _services.Metrics.TransferEnded(result);
        }
    }

    private Socket CreateSocket()
    {
        var socket = new Socket(Client.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            var any = Client.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            var local = _localAddress is not null && _localAddress.AddressFamily == Client.AddressFamily ? _localAddress : any;
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
            }
            catch (SocketException) when (!local.Equals(any))
            {
                socket.Bind(new IPEndPoint(any, 0)); // e.g. the request was sent to a broadcast address
            }

            socket.Connect(Client);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private TransferResult Serve(Socket socket, CancellationToken token)
    {
        var logger = _services.Logger;
        TftpFileResult lookup;
        try
        {
            // This thread is the transfer's own: waiting here for the file source blocks nothing else.
            lookup = _services.Files.OpenAsync(_request.FileName, token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            TftpServer.Log.FileSourceFailed(logger, Client, _logName, e);
            Send(socket, RequestScreening.ServerError);
            return TransferResult.Failed;
        }

        switch (lookup.Status)
        {
            case TftpFileStatus.NotFound:
                TftpServer.Log.FileNotFound(logger, Client, _logName);
                Send(socket, RequestScreening.FileNotFound);
                return TransferResult.NotFound;
            case TftpFileStatus.AccessDenied:
                TftpServer.Log.AccessDenied(logger, Client, _logName);
                Send(socket, RequestScreening.AccessViolation);
                return TransferResult.AccessDenied;
        }

        using var file = lookup.File!;
        _services.Observer?.TransferStarted(Client, _request.FileName);
        if (file.Length > _services.Limits.MaxFileSize)
        {
            TftpServer.Log.FileTooLarge(logger, Client, _logName, file.Length, _services.Limits.MaxFileSize);
            Send(socket, RequestScreening.FileTooLarge);
            return TransferResult.TooLarge;
        }

        var negotiated = TftpOptionNegotiation.Negotiate(_request.Options, file.Length, _services.Limits);
        var optionAck = negotiated.ToOptionAck();
        var transfer = new ReadTransfer(file.Length, negotiated, _services.Limits);
        TftpServer.Log.TransferStarted(logger, Client, _logName, file.Length, transfer.BlockSize, transfer.WindowSize, negotiated.Acknowledged.Count);

        var sendBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(TftpData.HeaderLength + transfer.BlockSize, optionAck?.GetEncodedLength() ?? 0));
        var receiveBuffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var clock = new WaitClock(_services.Time, socket);
        try
        {
            var started = _services.Time.GetTimestamp();
            var next = transfer.NextTransmission();
            while (true)
            {
                var sent = Transmit(socket, transfer, next, optionAck, file, sendBuffer);
                if (sent != Step.Continue)
                {
                    return End(sent);
                }

                clock.Arm(transfer.CurrentTimeout);
                var (step, errorCode) = AwaitAck(socket, transfer, receiveBuffer, clock, token);
                clock.Disarm();
                switch (step)
                {
                    case Step.ClientError:
                        TftpServer.Log.ClientAborted(logger, Client, _logName, errorCode);
                        return TransferResult.ClientError;
                    case Step.Completed:
                        TftpServer.Log.TransferCompleted(logger, Client, _logName, file.Length, (long)_services.Time.GetElapsedTime(started).TotalMilliseconds, transfer.BlockSize, transfer.WindowSize, transfer.TotalRetransmissions);
                        return TransferResult.Completed;
                    case Step.Continue:
                        break;
                    case Step.TimedOut when transfer.OnTimeout() == TimeoutOutcome.GiveUp:
                        if (transfer.IsAwaitingFinalAck)
                        {
                            TftpServer.Log.FinalAckLost(logger, Client, _logName, file.Length);
                            return TransferResult.Completed;
                        }

                        TftpServer.Log.TransferTimedOut(logger, Client, _logName, transfer.Acknowledged + 1, transfer.Retransmissions);
                        return TransferResult.TimedOut;
                    case Step.TimedOut:
                        TftpServer.Log.Retransmitting(logger, Client, _logName, transfer.Acknowledged + 1, transfer.Retransmissions, (long)transfer.CurrentTimeout.TotalMilliseconds);
                        _services.Metrics.Retransmitted();
                        break;
                    default:
                        return End(step);
                }

                next = transfer.NextTransmission();
            }
        }
        finally
        {
            clock.Dispose();
            ArrayPool<byte>.Shared.Return(sendBuffer);
            ArrayPool<byte>.Shared.Return(receiveBuffer);
        }
    }

    private TransferResult End(Step step)
    {
        if (step == Step.FileChanged)
        {
            TftpServer.Log.FileChanged(_services.Logger, Client, _logName);
            return TransferResult.Failed;
        }

        TftpServer.Log.ClientUnreachable(_services.Logger, Client, _logName);
        return TransferResult.ClientUnreachable;
    }

    /// <summary>Sends the OACK or the blocks of <paramref name="next"/>, each read from the file at its offset.</summary>
    private Step Transmit(Socket socket, ReadTransfer transfer, Transmission next, TftpOptionAck? optionAck, TftpFile file, byte[] buffer)
    {
        if (next.OptionAck)
        {
            optionAck!.TryWrite(buffer, out var length);
            return Send(socket, buffer.AsSpan(0, length));
        }

        var stream = file.Content;
        for (var block = next.First; block <= next.Last; block++)
        {
            var (offset, count) = transfer.GetBlockRange(block);
            TftpData.WriteHeader(buffer, ReadTransfer.ToWire(block));
            if (count > 0)
            {
                if (stream.Position != offset)
                {
                    stream.Position = offset;
                }

                var read = stream.ReadAtLeast(buffer.AsSpan(TftpData.HeaderLength, count), count, throwOnEndOfStream: false);
                if (read != count)
                {
                    return Step.FileChanged;
                }
            }

            var sent = Send(socket, buffer.AsSpan(0, TftpData.HeaderLength + count));
            if (sent != Step.Continue)
            {
                return sent;
            }

            _services.Metrics.Sent(count);
        }

        return Step.Continue;
    }

    /// <summary>Receives until an ACK moves the window, the client sends an ERROR, or the wait times out; junk is ignored without extending the wait.</summary>
    private (Step Step, TftpErrorCode ErrorCode) AwaitAck(Socket socket, ReadTransfer transfer, byte[] buffer, WaitClock clock, CancellationToken abort)
    {
        while (true)
        {
            abort.ThrowIfCancellationRequested();
            if (clock.IsDue)
            {
                return (Step.TimedOut, default);
            }

            int length;
            try
            {
                clock.SetReceiveTimeout();
                length = socket.Receive(buffer, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue; // a slice of the wait has passed: look at the clock and the abort token again
            }
            catch (SocketException e) when (SocketErrors.IsPeerGone(e.SocketErrorCode))
            {
                return (Step.ClientUnreachable, default);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                continue;
            }

            if (!TftpPacket.TryParse(buffer.AsSpan(0, length), _services.Limits, out var packet, out var error))
            {
                TftpServer.Log.IgnoredTransferDatagram(_services.Logger, Client, _logName, length, error.Describe());
                continue;
            }

            switch (packet)
            {
                case TftpAck ack:
                    switch (transfer.OnAck(ack.Block))
                    {
                        case AckOutcome.Progress:
                            _hasProgress = true;
                            return (Step.Continue, default);
                        case AckOutcome.Completed:
                            return (Step.Completed, default);
                        default:
                            continue; // duplicate or stale: never answered (Sorcerer's Apprentice)
                    }

                case TftpError clientError:
                    return (Step.ClientError, clientError.Code);
                default:
                    TftpServer.Log.IgnoredTransferDatagram(_services.Logger, Client, _logName, length, "Only ACK and ERROR packets are expected from a reading client.");
                    continue;
            }
        }
    }

    private static Step Send(Socket socket, ReadOnlySpan<byte> datagram)
    {
        try
        {
            socket.Send(datagram, SocketFlags.None);
            return Step.Continue;
        }
        catch (SocketException e) when (SocketErrors.IsPeerGone(e.SocketErrorCode))
        {
            return Step.ClientUnreachable;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return Step.Continue; // as good as lost on the wire: the timeout resends it
        }
    }

    private static void Send(Socket socket, TftpError error)
    {
        var buffer = new byte[error.GetEncodedLength()];
        error.TryWrite(buffer, out _);
        Send(socket, buffer);
    }

    /// <summary>A last word to the client when the transfer ends abnormally; best effort, never throws.</summary>
    private static void TrySend(Socket? socket, TftpError error)
    {
        if (socket is null)
        {
            return;
        }

        Span<byte> buffer = stackalloc byte[128];
        try
        {
            if (error.TryWrite(buffer, out var length))
            {
                socket.Send(buffer[..length]);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client may be gone already.
        }
    }

    private enum Step
    {
        Continue,
        Completed,
        TimedOut,
        ClientError,
        ClientUnreachable,
        FileChanged,
    }
}
