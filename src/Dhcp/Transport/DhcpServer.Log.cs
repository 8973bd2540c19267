using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Transport;

public sealed partial class DhcpServer
{
    [LoggerMessage(EventIds.DhcpOff, LogLevel.Information, "DHCP is off: no interface is named (nekko-bootserver: --dhcp-interfaces IFACE=proxy or IFACE=authoritative). A DHCP server on the wrong LAN does real harm: name the provisioning interface and its mode to turn it on.")]
    private partial void LogDhcpOff();

    [LoggerMessage(EventIds.Serving, LogLevel.Information, "DHCP on {Interface} ({Address}) in {Mode} mode, port {Ports}: {What}")]
    private partial void LogServing(string @interface, DhcpMode mode, string address, string ports, string what);

    [LoggerMessage(EventIds.InterfaceNotFound, LogLevel.Error, "DHCP interface {Interface} does not exist; port {Port} is retried with back-off")]
    private partial void LogInterfaceNotFound(string @interface, int port);

    [LoggerMessage(EventIds.InterfaceWithoutAddress, LogLevel.Error, "DHCP interface {Interface} has no IPv4 address (or Address is invalid); port {Port} is retried with back-off")]
    private partial void LogInterfaceWithoutAddress(string @interface, int port);

    [LoggerMessage(EventIds.OpenFailed, LogLevel.Error, "Cannot use UDP port {Port} on {Interface}: {Error} ({Reason})")]
    private partial void LogOpenFailed(string @interface, int port, SocketError error, string reason);

    [LoggerMessage(EventIds.ListenerStopped, LogLevel.Critical, "DHCP on {Interface} port {Port} stopped after a fatal socket error; restart the boot server once it is fixed")]
    private partial void LogListenerStopped(string @interface, int port);

    [LoggerMessage(EventIds.ListenerReopened, LogLevel.Information, "DHCP on {Interface} port {Port} is listening again ({Address})")]
    private partial void LogListenerReopened(string @interface, int port, IPAddress address);

    [LoggerMessage(EventIds.ReceiveBackOff, LogLevel.Warning, "Receive failed on {Interface} port {Port}: {Error} ({Reason}); reopening the socket with back-off")]
    private partial void LogReceiveBackOff(string @interface, int port, SocketError error, string reason);

    [LoggerMessage(EventIds.ReceiveTransient, LogLevel.Debug, "Receive on {Interface} port {Port} reported {Error}; going on")]
    private partial void LogReceiveTransient(string @interface, int port, SocketError error);

    [LoggerMessage(EventIds.SendFailed, LogLevel.Warning, "Sending the reply to {Destination} on {Interface} for {Mac} xid 0x{Xid:x8} failed: {Error}")]
    private partial void LogSendFailed(string @interface, IPEndPoint destination, LoggedMac mac, uint xid, SocketError error);

    [LoggerMessage(EventIds.BadDatagram, LogLevel.Debug, "Dropped a {Length}-byte datagram from {Source} on {Interface} (MAC {Mac}, xid 0x{Xid:x8}): {Reason}")]
    private partial void LogBadDatagram(string @interface, IPEndPoint source, int length, LoggedMac mac, uint xid, string reason);

    [LoggerMessage(EventIds.NotARequest, LogLevel.Trace, "Ignored a BOOTREPLY from {Source} on {Interface} (MAC {Mac}, xid 0x{Xid:x8})")]
    private partial void LogNotARequest(string @interface, IPEndPoint source, LoggedMac mac, uint xid);

    [LoggerMessage(EventIds.WrongInterface, LogLevel.Warning, "Dropped a datagram from {Source} that arrived on interface index {Index}, not {Interface}")]
    private partial void LogWrongInterface(string @interface, int index, IPEndPoint source);

    [LoggerMessage(EventIds.HandlerFailed, LogLevel.Error, "Handling {MessageType} from {Mac} xid 0x{Xid:x8} on {Interface} failed; the request is dropped")]
    private partial void LogHandlerFailed(Exception exception, string @interface, LoggedMac mac, uint xid, string messageType);
}
