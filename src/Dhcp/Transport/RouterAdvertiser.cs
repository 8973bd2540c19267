using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace NekkoMetal.Dhcp.Transport;

/// <summary>
/// IPv6 router advertisements with router lifetime 0 on one interface (RFC 4861 §4.2, §6.2): "there is no IPv6 router
/// here, and nothing to configure". iPXE waits 13–16 s for IPv6 autoconfiguration on every boot stage unless an RA
/// answers its router solicitation (PXE-VM.md). No prefix, no default route, M and O flags clear: no host configures
/// anything from them. Sent to ff02::1 at start and periodically, and unicast in answer to each router solicitation.
/// </summary>
internal sealed partial class RouterAdvertiser : IDisposable
{
    /// <summary>IPPROTO_ICMPV6 and ICMP6_FILTER (Linux).</summary>
    private const int IcmpV6Level = 58;
    private const int Icmp6Filter = 1;
    private const byte RouterSolicitation = 133;
    private const byte RouterAdvertisement = 134;
    private const int InitialAdvertisements = 3;
    private static readonly TimeSpan InitialInterval = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan MinMulticastGap = TimeSpan.FromSeconds(3);
    private static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");
    private static readonly IPAddress AllRouters = IPAddress.Parse("ff02::2");

    private readonly string _interface;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Socket? _socket;
    private int _index;
    private byte[] _message = [];
    private long _lastMulticast;

    public RouterAdvertiser(string interfaceName, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _interface = interfaceName;
        _interval = interval;
        _time = time;
        _logger = logger;
    }

    /// <summary>The advertisement: type 134, hop limit unspecified, no flags, router lifetime 0, then our link-layer address (option 1).</summary>
    internal static byte[] BuildAdvertisement(ReadOnlySpan<byte> linkLayerAddress)
    {
        var withMac = linkLayerAddress.Length == 6;
        var message = new byte[16 + (withMac ? 8 : 0)];
        message[0] = RouterAdvertisement;

        // [1] code 0, [2..3] checksum (the kernel fills it for ICMPv6 raw sockets), [4] cur hop limit 0, [5] flags 0,
        // [6..7] router lifetime 0, [8..11] reachable time 0, [12..15] retrans timer 0.
        if (withMac)
        {
            message[16] = 1;
            message[17] = 1;
            linkLayerAddress.CopyTo(message.AsSpan(18));
        }

        return message;
    }

    public bool TryOpen()
    {
        try
        {
            NetworkInterface? ni = null;
            foreach (var candidate in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (string.Equals(candidate.Name, _interface, StringComparison.Ordinal))
                {
                    ni = candidate;
                    break;
                }
            }

            if (ni is null)
            {
                LogRouterAdvertisementFailed(_interface, "the interface does not exist");
                return false;
            }

            // The scope of the link-local address is the interface index (read from getifaddrs, so right in any
            // network namespace; the IPv6 properties read /sys, which shows the namespace sysfs was mounted in).
            var properties = ni.GetIPProperties();
            _index = properties.UnicastAddresses
                .Select(u => u.Address)
                .FirstOrDefault(a => a.IsIPv6LinkLocal)?.ScopeId is { } scope ? (int)scope : 0;
            if (_index == 0)
            {
                LogRouterAdvertisementFailed(_interface, "the interface has no IPv6 link-local address (is IPv6 disabled on it?)");
                return false;
            }

            _message = BuildAdvertisement(ni.GetPhysicalAddress().GetAddressBytes());
            var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
            try
            {
                DhcpSockets.BindToDevice(socket, _interface);

                // RFC 4861 §6.1.2: hop limit 255, or receivers discard the RA.
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IpTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, false);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, _index);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(AllRouters, _index));

                // Only router solicitations reach the socket (a set bit blocks that ICMPv6 type).
                var filter = new byte[32];
                Array.Fill(filter, (byte)0xFF);
                filter[RouterSolicitation >> 3] &= unchecked((byte)~(1 << (RouterSolicitation & 7)));
                socket.SetRawSocketOption(IcmpV6Level, Icmp6Filter, filter);
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _socket = socket;
            LogRouterAdvertisementsOn(_interface, _interval.TotalSeconds);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or NetworkInformationException or IOException)
        {
            LogRouterAdvertisementFailed(_interface, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Advertises until stopped. When the socket could not be opened at start (interface missing, no link-local
    /// address yet), retries with back-off, in the network namespace of the thread pool.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            var backOff = TimeSpan.FromSeconds(1);
            while (_socket is null)
            {
                await Task.Delay(backOff, _time, ct);
                backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                TryOpen();
            }

            await Task.WhenAll(AdvertiseAsync(ct), AnswerSolicitationsAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (ct.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // optional feature: its failure must not stop DHCP
        catch (Exception ex) when (!ct.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogRouterAdvertisementFailed(_interface, "stopped: " + ex.Message);
        }
    }

    private async Task AdvertiseAsync(CancellationToken ct)
    {
        for (var sent = 0; !ct.IsCancellationRequested; sent++)
        {
            await SendAsync(AllNodesEndPoint(), ct);
            _lastMulticast = _time.GetTimestamp();
            await Task.Delay(sent < InitialAdvertisements && InitialInterval < _interval ? InitialInterval : _interval, _time, ct);
        }
    }

    private async Task AnswerSolicitationsAsync(CancellationToken ct)
    {
        var buffer = new byte[1500];
        while (!ct.IsCancellationRequested && _socket is { } socket)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), ct);
            }
            catch (SocketException ex) when (DhcpSockets.Classify(ex.SocketErrorCode) != SocketErrorAction.Fatal)
            {
                LogRouterAdvertisementFailed(_interface, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
                continue;
            }

            if (result.ReceivedBytes < 8 || buffer[0] != RouterSolicitation || buffer[1] != 0)
            {
                continue;
            }

            var source = (IPEndPoint)result.RemoteEndPoint;
            LogRouterSolicitation(_interface, source.Address);
            if (!source.Address.Equals(IPAddress.IPv6Any))
            {
                // RFC 4861 §6.2.6: a router may answer a solicitation unicast, at once.
                await SendAsync(source, ct);
            }
            else if (_time.GetElapsedTime(_lastMulticast) >= MinMulticastGap)
            {
                _lastMulticast = _time.GetTimestamp();
                await SendAsync(AllNodesEndPoint(), ct);
            }
        }
    }

    private IPEndPoint AllNodesEndPoint() => new(new IPAddress(AllNodes.GetAddressBytes(), _index), 0);

    private async Task SendAsync(IPEndPoint destination, CancellationToken ct)
    {
        if (_socket is not { } socket)
        {
            return;
        }

        try
        {
            await socket.SendToAsync(_message, SocketFlags.None, destination, ct);
        }
        catch (SocketException ex)
        {
            LogRouterAdvertisementFailed(_interface, ex.Message);
        }
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
    }

    [LoggerMessage(EventIds.RouterAdvertisementsOn, LogLevel.Information, "IPv6 router advertisements (router lifetime 0, no prefix) on {Interface} every {IntervalSeconds} s and in answer to solicitations")]
    private partial void LogRouterAdvertisementsOn(string @interface, double intervalSeconds);

    [LoggerMessage(EventIds.RouterAdvertisementFailed, LogLevel.Warning, "IPv6 router advertisements on {Interface}: {Reason}")]
    private partial void LogRouterAdvertisementFailed(string @interface, string reason);

    [LoggerMessage(EventIds.RouterSolicitation, LogLevel.Debug, "Router solicitation from {Source} on {Interface}")]
    private partial void LogRouterSolicitation(string @interface, IPAddress source);
}
