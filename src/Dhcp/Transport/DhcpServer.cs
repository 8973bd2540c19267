using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Transport;

/// <summary>
/// The DHCPv4 transport: one UDP socket per interface and port (the server port on every named interface, the PXE
/// port on proxy interfaces), each with a thread blocked in receive, taking what is queued in one call (<see cref="UdpBatch"/>:
/// recvmmsg, and the replies given at once sent together with sendmmsg); datagrams decoded with <see cref="DhcpLimits"/>,
/// handed to <see cref="DhcpHandler"/> (answered on that thread when the handler answers at once; up to
/// <see cref="DhcpServerOptions.MaxConcurrentRequests"/> waiting on the lease store, DISCOVERs shed once half of them
/// are taken) and the replies sent from the same socket. Bad datagrams are logged and dropped; socket errors are sorted into transient (logged),
/// back-off (socket reopened after a growing delay) and fatal (that listener stops).
/// </summary>
/// <remarks>
/// Sockets are opened in <see cref="StartAsync"/>, on the calling thread: in the network namespace of the thread
/// that starts the host (tests start it from a thread that entered a namespace). An interface that is missing at
/// start is retried from the receive loop.
/// </remarks>
public sealed partial class DhcpServer : BackgroundService
{
    private static readonly TimeSpan InitialBackOff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(30);
    private const int IdleMilliseconds = 250; // the receive loop looks at its stop token this often when idle

    private readonly DhcpServerOptions _options;
    private readonly DhcpHandler _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DhcpMetrics _metrics;
    private readonly List<Listener> _listeners = [];
    private readonly List<RouterAdvertiser> _advertisers = [];
    private readonly SemaphoreSlim _slots;

    public DhcpServer(IOptions<DhcpServerOptions> options, DhcpHandler handler, TimeProvider time, ILogger<DhcpServer> logger, DhcpMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _handler = handler;
        _time = time;
        _logger = logger;
        _metrics = metrics ?? new DhcpMetrics();
        _slots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentRequests));
    }

    /// <summary>The links served right now (interfaces whose server-port socket is open).</summary>
    public IReadOnlyList<DhcpLink> Links => [.. _listeners.Where(l => l.Kind == DhcpListenerKind.Server && l.Link is not null).Select(l => l.Link!)];

    /// <summary>Validates the options, says in the log what runs where (or that DHCP is off) and opens the sockets.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var validation = new DhcpServerOptionsValidator().Validate(null, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(DhcpServerOptions.SectionName, typeof(DhcpServerOptions), validation.Failures);
        }

        if (_options.Interfaces.Count == 0)
        {
            LogDhcpOff();
            return base.StartAsync(cancellationToken);
        }

        if (!_handler.HasLeaseStore && _options.Interfaces.Any(i => i.Mode == DhcpMode.Authoritative))
        {
            throw new InvalidOperationException("Authoritative DHCP is configured but no IDhcpLeaseStore is registered.");
        }

        foreach (var itf in _options.Interfaces)
        {
            _listeners.Add(new Listener(itf, DhcpListenerKind.Server, _options.ServerPort));
            if (itf.Mode == DhcpMode.Proxy)
            {
                _listeners.Add(new Listener(itf, DhcpListenerKind.Proxy, _options.ProxyPort));
            }

            if (itf.RouterAdvertisements)
            {
                _advertisers.Add(new RouterAdvertiser(itf.Name, _options.RouterAdvertisementInterval, _time, _logger));
            }
        }

        foreach (var listener in _listeners)
        {
            TryOpen(listener);
        }

        foreach (var itf in _options.Interfaces)
        {
            var link = _listeners.First(l => l.Options == itf).Link;
            var ports = itf.Mode == DhcpMode.Proxy ? $"{_options.ServerPort} and {_options.ProxyPort}" : $"{_options.ServerPort}";
            var what = itf.Mode == DhcpMode.Proxy
                ? "proxyDHCP, answers network-boot clients only, hands out no addresses"
                : "authoritative, hands out addresses to every client";
            LogServing(itf.Name, itf.Mode, link?.Address.ToString() ?? "(not yet available)", ports, what);
        }

        foreach (var advertiser in _advertisers)
        {
            advertiser.TryOpen();
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            foreach (var listener in _listeners)
            {
                listener.Close();
            }

            foreach (var advertiser in _advertisers)
            {
                advertiser.Dispose();
            }
        }
    }

    public override void Dispose()
    {
        foreach (var listener in _listeners)
        {
            listener.Close();
        }

        foreach (var advertiser in _advertisers)
        {
            advertiser.Dispose();
        }

        _slots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listeners.Count == 0)
        {
            return;
        }

        // One thread per socket, blocked in receive: a datagram that the handler answers at once (DISCOVER, proxy
        // replies, NAKs) is received, handled and answered on that thread with no hand-over to the thread pool.
        var loops = _listeners.Select(l => Task.Factory.StartNew(() => ReceiveLoop(l, stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .Concat(_advertisers.Select(a => a.RunAsync(stoppingToken)))
            .ToList();
        await Task.WhenAll(loops);

        // Wait for requests in flight: each holds a slot.
        for (var i = 0; i < _options.MaxConcurrentRequests; i++)
        {
            await _slots.WaitAsync(CancellationToken.None);
        }

        _slots.Release(_options.MaxConcurrentRequests);
    }

    private bool TryOpen(Listener listener)
    {
        var name = listener.Options.Name;
        InterfaceLookup lookup;
        try
        {
            lookup = DhcpSockets.Find(name, listener.Options.Address);
        }
        catch (NetworkInformationException ex)
        {
            LogOpenFailed(name, listener.Port, SocketError.SocketError, ex.Message);
            return false;
        }

        if (!lookup.Exists)
        {
            LogInterfaceNotFound(name, listener.Port);
            return false;
        }

        if (lookup.Address is null)
        {
            LogInterfaceWithoutAddress(name, listener.Port);
            return false;
        }

        try
        {
            listener.Socket = DhcpSockets.OpenUdp(name, listener.Port);
        }
        catch (SocketException ex)
        {
            LogOpenFailed(name, listener.Port, ex.SocketErrorCode, ex.Message);
            if (DhcpSockets.Classify(ex.SocketErrorCode) == SocketErrorAction.Fatal)
            {
                listener.Fatal = true;
            }

            return false;
        }

        listener.Index = lookup.Index;
        listener.Link = new DhcpLink(name, listener.Options.Mode, lookup.Address);
        return true;
    }

    private void ReceiveLoop(Listener listener, CancellationToken ct)
    {
        var backOff = InitialBackOff;
        var limits = _options.Limits;
        using var batch = new UdpBatch(limits.MaxDatagramSize + 1); // one byte more: an oversized datagram is seen as one
        var queued = new List<QueuedReply>(UdpBatch.Capacity);
        while (!ct.IsCancellationRequested)
        {
            if (listener.Fatal)
            {
                LogListenerStopped(listener.Options.Name, listener.Port);
                return;
            }

            if (listener.Socket is not { } socket)
            {
                try
                {
                    Task.Delay(backOff, _time, ct).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, MaxBackOff.Ticks));
                if (TryOpen(listener))
                {
                    LogListenerReopened(listener.Options.Name, listener.Port, listener.Link!.Address);
                    backOff = InitialBackOff;
                }

                continue;
            }

            int received;
            try
            {
                received = batch.Receive(socket.SafeHandle, IdleMilliseconds, out var error);
                if (received < 0)
                {
                    throw new SocketException((int)error);
                }
            }
            catch (SocketException ex)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }

                switch (DhcpSockets.Classify(ex.SocketErrorCode))
                {
                    case SocketErrorAction.Transient:
                        LogReceiveTransient(listener.Options.Name, listener.Port, ex.SocketErrorCode);
                        break;
                    case SocketErrorAction.BackOff:
                        LogReceiveBackOff(listener.Options.Name, listener.Port, ex.SocketErrorCode, ex.Message);
                        listener.Close();
                        break;
                    default:
                        LogOpenFailed(listener.Options.Name, listener.Port, ex.SocketErrorCode, ex.Message);
                        listener.Close();
                        listener.Fatal = true;
                        break;
                }

                continue;
            }
            catch (ObjectDisposedException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }

                continue; // closed under us (reopened after an error): the next round sees it
            }

            for (var i = 0; i < received; i++)
            {
                Dispatch(listener, socket, batch.Datagram(i), batch.Source(i), batch.PacketInformation(i), batch, queued, ct);
            }

            if (batch.Queued > 0)
            {
                try
                {
                    batch.Flush(socket.SafeHandle, (i, error) => LogSendFailed(queued[i].Link.Name, queued[i].To, new LoggedMac(queued[i].Message), queued[i].Message.TransactionId, error));
                }
                catch (ObjectDisposedException)
                {
                    // Closed under us: the clients retransmit.
                }

                queued.Clear();
            }
        }
    }

    /// <summary>Decodes and checks one datagram and handles it: on this thread when the handler answers at once.</summary>
    private void Dispatch(Listener listener, Socket socket, ReadOnlySpan<byte> datagram, IPEndPoint source, (int Interface, IPAddress? Destination) packetInformation,
        UdpBatch batch, List<QueuedReply> queued, CancellationToken ct)
    {
        var name = listener.Options.Name;
        _metrics.Received(name);
        if (listener.Index > 0 && packetInformation.Interface > 0 && packetInformation.Interface != listener.Index)
        {
            _metrics.Dropped(name, "wrong-interface");
            LogWrongInterface(name, packetInformation.Interface, source);
            return;
        }

        // Overloaded (see below): a DISCOVER is shed before it costs a decode.
        if (_slots.CurrentCount <= _options.MaxConcurrentRequests / 2 && DhcpMessage.PeekMessageType(datagram) == DhcpMessageType.Discover)
        {
            _metrics.Dropped(name, "overloaded");
            return;
        }

        if (!DhcpMessage.TryParse(datagram, _options.Limits, out var message, out var error))
        {
            _metrics.Dropped(name, error.ToString());
            LogBadDatagram(name, source, datagram.Length, RawMac(datagram), RawXid(datagram), error.Describe());
            return;
        }

        if (message.Op != DhcpOpCode.BootRequest)
        {
            // Another server's reply, broadcast on the link: normal in proxy mode.
            _metrics.Dropped(name, "not-a-request");
            LogNotARequest(name, source, new LoggedMac(message), message.TransactionId);
            return;
        }

        // Overload: a DISCOVER starts an exchange, a REQUEST finishes one. When half the slots are taken by requests
        // still waiting (on the lease store), new exchanges are shed so that the started ones complete (their
        // clients retransmit the DISCOVER) instead of every exchange finishing too late for its client.
        var discover = message.Options.MessageType == DhcpMessageType.Discover;
        if (discover && _slots.CurrentCount <= _options.MaxConcurrentRequests / 2)
        {
            _metrics.Dropped(name, "overloaded");
            return;
        }

        if (!_slots.Wait(0, CancellationToken.None))
        {

            try
            {
                _slots.Wait(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var context = new DhcpRequestContext(message, listener.Link!, listener.Kind, source, packetInformation.Destination ?? IPAddress.Any);
        var started = _time.GetTimestamp();
        ValueTask<DhcpReply?> pending;
        try
        {
            pending = _handler.HandleAsync(context, ct);
        }
#pragma warning disable CA1031 // the listener boundary: one bad request must not stop the server
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(ex, context.Link.Name, new LoggedMac(context.Message), context.Message.TransactionId, context.Message.Options.MessageType?.ToString() ?? "none");
            _metrics.Handled(_time.GetElapsedTime(started), false);
            _slots.Release();
            return;
        }

        if (pending.IsCompleted)
        {
            Finish(pending, context, socket, started, ct, batch, queued);
        }
        else
        {
            _ = FinishAsync(pending, context, socket, started, ct);
        }
    }

    private async Task FinishAsync(ValueTask<DhcpReply?> pending, DhcpRequestContext context, Socket socket, long started, CancellationToken ct)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // observed in Finish
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        Finish(pending, context, socket, started, ct);
    }

    /// <summary>Sends the reply of a completed handler call (or logs its failure) and gives the slot back.</summary>
    private void Finish(ValueTask<DhcpReply?> completed, DhcpRequestContext context, Socket socket, long started, CancellationToken ct,
        UdpBatch? batch = null, List<QueuedReply>? queued = null)
    {
        var replied = false;
        try
        {
            var reply = completed.GetAwaiter().GetResult();
            if (reply is null)
            {
                return;
            }

            var length = reply.Message.GetEncodedLength();
            if (batch is not null && queued is not null && batch.NextSendBuffer() is { Length: > 0 } room && length <= room.Length)
            {
                // On the receive thread: sent with the rest of the batch's replies in one system call.
                reply.Message.TryWrite(room, out var encoded);
                var to = reply.Destination.SendTo;
                batch.Queue(encoded, to);
                queued.Add(new QueuedReply(context.Link, to, context.Message));
                replied = true;
                _metrics.Sent(context.Link.Name, reply.Type);
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                reply.Message.TryWrite(buffer, out var written);
                socket.SendTo(buffer.AsSpan(0, written), SocketFlags.None, reply.Destination.SendTo);
                replied = true;
                _metrics.Sent(context.Link.Name, reply.Type);
            }
            catch (SocketException ex)
            {
                LogSendFailed(context.Link.Name, reply.Destination.SendTo, new LoggedMac(context.Message), context.Message.TransactionId, ex.SocketErrorCode);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The socket was closed under us (stopping, or reopened after an error): the client retransmits.
        }
#pragma warning disable CA1031 // the listener boundary: one bad request must not stop the server
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(ex, context.Link.Name, new LoggedMac(context.Message), context.Message.TransactionId, context.Message.Options.MessageType?.ToString() ?? "none");
        }
        finally
        {
            _metrics.Handled(_time.GetElapsedTime(started), replied);
            _slots.Release();
        }
    }

    private static LoggedMac RawMac(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= 34 && datagram[2] is > 0 and <= 16 && datagram.Length >= 28 + datagram[2]
            ? new LoggedMac(datagram.Slice(28, datagram[2]).ToArray())
            : new LoggedMac([]);

    private static uint RawXid(ReadOnlySpan<byte> datagram) => datagram.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) : 0;

    /// <summary>A reply queued in the receive thread's batch, for the log if the kernel refuses it.</summary>
    private readonly record struct QueuedReply(DhcpLink Link, IPEndPoint To, DhcpMessage Message);

    /// <summary>One socket: an interface and a port.</summary>
    private sealed class Listener(DhcpInterfaceOptions options, DhcpListenerKind kind, int port)
    {
        public DhcpInterfaceOptions Options { get; } = options;

        public DhcpListenerKind Kind { get; } = kind;

        public int Port { get; } = port;

        public Socket? Socket { get; set; }

        public DhcpLink? Link { get; set; }

        public int Index { get; set; }

        public bool Fatal { get; set; }

        public void Close()
        {
            Socket?.Dispose();
            Socket = null;
        }
    }
}
