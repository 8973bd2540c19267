using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Transfers;

namespace NekkoMetal.Tftp.Transport;

/// <summary>
/// The read-only TFTP server: one UDP listener (port 69 by default) taking read requests, each served
/// by a <see cref="TransferSession"/> on its own socket and ephemeral port (the RFC 1350 transfer ID).
/// Junk datagrams are logged and dropped; only a broken listener socket stops the service.
/// </summary>
public sealed partial class TftpServer : BackgroundService
{
    private static readonly TimeSpan BackOffDelay = TimeSpan.FromMilliseconds(100);

    private readonly TftpServerOptions _options;
    private readonly TransferServices _services;
    private readonly ILogger<TftpServer> _logger;
    private readonly ConcurrentDictionary<IPEndPoint, TransferSession> _transfers = new();
    private Socket? _socket;

    public TftpServer(IOptions<TftpServerOptions> options, ITftpFileSource files, TimeProvider timeProvider, ILogger<TftpServer> logger, IMeterFactory meterFactory,
        ITftpTransferObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
        _services = new TransferServices(_options.Limits, files, timeProvider, logger, new TftpMetrics(meterFactory), observer);
    }

    /// <summary>The address and port the listener is bound to, once started (useful with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Transfers in progress.</summary>
    public int ActiveTransfers => _transfers.Count;

    /// <summary>Binds the listener before returning, so a port in use or a missing privilege fails the host's start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var address = IPAddress.Parse(_options.Address);
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetSocketOption(
                address.AddressFamily == AddressFamily.InterNetworkV6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP,
                SocketOptionName.PacketInformation,
                true);
            socket.Bind(new IPEndPoint(address, _options.Port));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException($"TFTP cannot listen on {_options.Address} port {_options.Port}: {e.SocketErrorCode} ({e.Message}). Port 69 needs root or CAP_NET_BIND_SERVICE.", e);
        }

        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        Log.Listening(_logger, LocalEndPoint, _services.Files is DirectoryFileSource directory ? directory.Root : _services.Files.GetType().Name, _services.Limits.MaxConcurrentTransfers);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("StartAsync binds the listener first.");
        // One byte more than the largest packet the codec accepts, so an oversized datagram is seen as one.
        var buffer = ArrayPool<byte>.Shared.Rent(TftpData.HeaderLength + _services.Limits.MaxBlockSize + 1);
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                SocketReceiveMessageFromResult received;
                try
                {
                    received = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (SocketException e) when (SocketErrors.Classify(e.SocketErrorCode) == SocketErrorKind.Transient)
                {
                    Log.ListenerSocketError(_logger, e.SocketErrorCode);
                    continue;
                }
                catch (SocketException e) when (SocketErrors.Classify(e.SocketErrorCode) == SocketErrorKind.BackOff)
                {
                    Log.ListenerBackOff(_logger, e.SocketErrorCode, (int)BackOffDelay.TotalMilliseconds);
                    if (!await DelayAsync(BackOffDelay, stoppingToken))
                    {
                        break;
                    }

                    continue;
                }
                catch (SocketException e)
                {
                    Log.ListenerFatal(_logger, e.SocketErrorCode, e);
                    throw;
                }

                var client = Normalize((IPEndPoint)received.RemoteEndPoint);
                try
                {
                    var truncated = (received.SocketFlags & SocketFlags.Truncated) != 0 || received.ReceivedBytes >= buffer.Length;
                    HandleDatagram(buffer.AsSpan(0, received.ReceivedBytes), truncated, client, received.PacketInformation.Address, stoppingToken);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The listener boundary: a bug in handling one datagram must not stop the service.
                    Log.DatagramHandlingFailed(_logger, client, e);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await Task.WhenAll(_transfers.Values.Select(t => t.Completion));
            Log.ListenerStopped(_logger, LocalEndPoint!);
        }
    }

    /// <summary>Waits on the server's clock; false when the service is stopping.</summary>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, _services.Time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public override void Dispose()
    {
        _socket?.Dispose();
        base.Dispose();
    }

    private void HandleDatagram(ReadOnlySpan<byte> datagram, bool truncated, IPEndPoint client, IPAddress? localAddress, CancellationToken stoppingToken)
    {
        if (truncated)
        {
            Drop(client, datagram.Length, TftpParseError.TooLong.Describe());
            return;
        }

        if (!TftpPacket.TryParse(datagram, _services.Limits, out var packet, out var error))
        {
            if (RequestScreening.IsRequestOpcode(datagram))
            {
                Log.MalformedRequest(_logger, client, error, error.Describe());
                Refuse(client, RequestScreening.ReplyToMalformed(error));
            }
            else
            {
                Drop(client, datagram.Length, error.Describe());
            }

            return;
        }

        if (packet is not TftpRequest request)
        {
            Drop(client, datagram.Length, "Only read and write requests are sent to the listener port.");
            return;
        }

        var refusal = RequestScreening.Screen(request);
        switch (refusal)
        {
            case RequestRefusal.WriteRequest:
                Log.WriteRequestRefused(_logger, client, LogText.Safe(request.FileName));
                Refuse(client, RequestScreening.Reply(refusal)!);
                return;
            case RequestRefusal.UnsupportedMode:
                Log.ModeRefused(_logger, client, LogText.Safe(request.FileName), request.Mode);
                Refuse(client, RequestScreening.Reply(refusal)!);
                return;
        }

        StartTransfer(request, client, localAddress is null ? null : Normalize(localAddress), stoppingToken);
    }

    private void StartTransfer(TftpRequest request, IPEndPoint client, IPAddress? localAddress, CancellationToken stoppingToken)
    {
        var superseded = 0;
        if (_transfers.TryGetValue(client, out var existing))
        {
            if (!existing.HasProgress && existing.FileName == request.FileName)
            {
                // The client retransmitted its request before our first packet reached it: that transfer answers it.
                Log.DuplicateRequest(_logger, client, LogText.Safe(request.FileName));
                return;
            }

            Log.TransferSuperseded(_logger, client, LogText.Safe(request.FileName), LogText.Safe(existing.FileName));
            existing.Supersede();
            superseded = 1;
        }

        var active = _transfers.Count - superseded;
        if (active >= _services.Limits.MaxConcurrentTransfers)
        {
            // Dropped rather than refused: PXE ROMs retransmit the request and usually get a slot, where an error would end their boot.
            Log.ServerBusy(_logger, client, LogText.Safe(request.FileName), active);
            _services.Metrics.TransferEnded(TransferResult.Busy);
            return;
        }

        var session = new TransferSession(_services, request, client, localAddress, stoppingToken);
        _transfers[client] = session;
        _services.Metrics.ActiveChanged(1);
        session.Start(ended =>
        {
            _transfers.TryRemove(KeyValuePair.Create(ended.Client, ended));
            _services.Metrics.ActiveChanged(-1);
        });
    }

    private void Drop(IPEndPoint client, int length, string reason)
    {
        Log.JunkDatagram(_logger, client, length, reason);
        _services.Metrics.Dropped();
    }

    /// <summary>Answers a refused request from the listener port (no transfer exists, so no transfer ID to keep).</summary>
    private void Refuse(IPEndPoint client, TftpError error)
    {
        _services.Metrics.TransferEnded(TransferResult.Refused);
        Span<byte> packet = stackalloc byte[256];
        if (!error.TryWrite(packet, out var length))
        {
            return;
        }

        try
        {
            _socket!.SendTo(packet[..length], SocketFlags.None, client);
        }
        catch (SocketException e)
        {
            Log.ListenerSocketError(_logger, e.SocketErrorCode);
        }
    }

    /// <summary>IPv4 clients of a dual-mode listener arrive as ::ffff:a.b.c.d; they are served over IPv4.</summary>
    private static IPEndPoint Normalize(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>What every transfer of one server shares.</summary>
internal sealed record TransferServices(TftpLimits Limits, ITftpFileSource Files, TimeProvider Time, ILogger Logger, TftpMetrics Metrics,
    ITftpTransferObserver? Observer = null);

/// <summary>Told when a file is found and about to be sent (the boot server records it as boot progress). Must not block or throw.</summary>
public interface ITftpTransferObserver
{
    void TransferStarted(IPEndPoint client, string path);
}
