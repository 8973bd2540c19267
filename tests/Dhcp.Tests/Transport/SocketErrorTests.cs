using System.Net.Sockets;
using NekkoMetal.Dhcp.Transport;

namespace NekkoMetal.Dhcp.Tests.Transport;

public class SocketErrorTests
{
    [Theory]
    [InlineData(SocketError.ConnectionReset, "Transient")]
    [InlineData(SocketError.ConnectionRefused, "Transient")]
    [InlineData(SocketError.MessageSize, "Transient")]
    [InlineData(SocketError.HostUnreachable, "Transient")]
    [InlineData(SocketError.Interrupted, "Transient")]
    [InlineData(SocketError.NetworkDown, "BackOff")]
    [InlineData(SocketError.NoBufferSpaceAvailable, "BackOff")]
    [InlineData(SocketError.AddressAlreadyInUse, "BackOff")]
    [InlineData(SocketError.AddressNotAvailable, "BackOff")]
    [InlineData(SocketError.SocketError, "BackOff")]
    [InlineData(SocketError.AccessDenied, "Fatal")]
    [InlineData(SocketError.ProtocolNotSupported, "Fatal")]
    [InlineData(SocketError.OperationNotSupported, "Fatal")]
    [InlineData(SocketError.InvalidArgument, "Fatal")]
    public void Socket_errors_are_sorted(SocketError error, string action) =>
        Assert.Equal(action, DhcpSockets.Classify(error).ToString());
}
