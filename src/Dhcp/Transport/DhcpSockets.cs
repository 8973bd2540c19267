using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Transport;

/// <summary>Opening the UDP sockets of the server, and what to do about their errors.</summary>
internal static class DhcpSockets
{
    /// <summary>SOL_SOCKET on Linux.</summary>
    internal const int SolSocket = 1;

    /// <summary>SO_BINDTODEVICE on Linux: the socket only receives from, and sends through, that interface.</summary>
    internal const int SoBindToDevice = 25;

    private const int ReceiveBufferBytes = 1 << 20;

    /// <summary>
    /// A UDP socket on 0.0.0.0:<paramref name="port"/> bound to one interface (broadcasts to 255.255.255.255 only reach
    /// a socket bound to the wildcard address; SO_BINDTODEVICE keeps interfaces and namespaces apart and lets one
    /// port be bound once per interface), with SO_BROADCAST for broadcast replies and IP_PKTINFO so each datagram
    /// tells its interface and destination address. No SO_REUSEADDR: a second server on the same interface and port
    /// is an error, not a silent split of the traffic.
    /// </summary>
    public static Socket OpenUdp(string interfaceName, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            BindToDevice(socket, interfaceName);
            socket.EnableBroadcast = true;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            socket.ReceiveBufferSize = ReceiveBufferBytes;
            socket.ReceiveTimeout = 250; // the receive loop blocks in receive and looks at its stop token this often
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static void BindToDevice(Socket socket, string interfaceName)
    {
        var name = Encoding.ASCII.GetBytes(interfaceName + "\0");
        socket.SetRawSocketOption(SolSocket, SoBindToDevice, name);
    }

    /// <summary>
    /// The interface's index and our address on it: <paramref name="configured"/> when given, else its first IPv4
    /// address. Looked up in the network namespace of the calling thread.
    /// </summary>
    public static InterfaceLookup Find(string name, string? configured)
    {
        NetworkInterface? found = null;
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (string.Equals(ni.Name, name, StringComparison.Ordinal))
            {
                found = ni;
                break;
            }
        }

        if (found is null)
        {
            return new InterfaceLookup(false, 0, null);
        }

        var index = 0;
        IPAddress? first = null;
        try
        {
            var properties = found.GetIPProperties();
            foreach (var unicast in properties.UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    first = unicast.Address;
                    break;
                }
            }

            index = properties.UnicastAddresses.Select(u => u.Address).FirstOrDefault(a => a.IsIPv6LinkLocal)?.ScopeId is { } scope
                ? (int)scope
                : properties.GetIPv4Properties()?.Index ?? 0;
        }
        catch (NetworkInformationException)
        {
            // Index unknown (e.g. /sys of another namespace): the per-datagram interface check is skipped.
        }
        catch (IOException)
        {
        }

        if (configured is not null)
        {
            return new InterfaceLookup(true, index, DhcpServerOptionsValidator.TryParseUnicastIPv4(configured, out var address) ? address : null);
        }

        return new InterfaceLookup(true, index, first);
    }

    /// <summary>
    /// Receive errors: <see cref="SocketErrorAction.Transient"/> ones are logged and the loop goes on (an ICMP error
    /// from an earlier send surfaces on the next receive); <see cref="SocketErrorAction.BackOff"/> ones close the socket
    /// and reopen it after a growing delay (interface down or gone, no buffers, port taken); <see cref="SocketErrorAction.Fatal"/>
    /// ones stop that listener (no permission, unsupported): retrying cannot help.
    /// </summary>
    public static SocketErrorAction Classify(SocketError error) => error switch
    {
        SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize or SocketError.Interrupted
            or SocketError.WouldBlock or SocketError.TryAgain or SocketError.HostUnreachable or SocketError.NetworkUnreachable
            or SocketError.HostDown or SocketError.TimedOut or SocketError.OperationAborted => SocketErrorAction.Transient,
        SocketError.AccessDenied or SocketError.ProtocolNotSupported or SocketError.AddressFamilyNotSupported
            or SocketError.ProtocolFamilyNotSupported or SocketError.SocketNotSupported or SocketError.OperationNotSupported
            or SocketError.ProtocolOption or SocketError.ProtocolType or SocketError.InvalidArgument or SocketError.Fault
            or SocketError.NotSocket => SocketErrorAction.Fatal,
        _ => SocketErrorAction.BackOff,
    };
}

internal readonly record struct InterfaceLookup(bool Exists, int Index, IPAddress? Address);

internal enum SocketErrorAction
{
    Transient,
    BackOff,
    Fatal,
}
