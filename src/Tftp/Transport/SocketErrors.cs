using System.Net.Sockets;

namespace NekkoMetal.Tftp.Transport;

internal enum SocketErrorKind
{
    /// <summary>About one datagram or one peer (an ICMP error, an oversized datagram): carry on.</summary>
    Transient,

    /// <summary>The host is short of something (buffers, descriptors) or the network is down: wait a little, carry on.</summary>
    BackOff,

    /// <summary>The socket itself is broken: stop the listener (the host reports it).</summary>
    Fatal,
}

internal static class SocketErrors
{
    public static SocketErrorKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.MessageSize
            or SocketError.TimedOut or SocketError.Interrupted or SocketError.WouldBlock => SocketErrorKind.Transient,
        SocketError.NoBufferSpaceAvailable or SocketError.TooManyOpenSockets or SocketError.NetworkDown
            or SocketError.SystemNotReady or SocketError.ProcessLimit or SocketError.TryAgain => SocketErrorKind.BackOff,
        _ => SocketErrorKind.Fatal,
    };

    /// <summary>The client's port or host is gone (ICMP unreachable reported on the connected transfer socket).</summary>
    public static bool IsPeerGone(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable or SocketError.HostDown;
}
