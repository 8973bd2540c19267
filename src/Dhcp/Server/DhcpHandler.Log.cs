using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using NekkoMetal.Dhcp.Boot;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Server;

public sealed partial class DhcpHandler
{
    // Per-lease messages are Debug: the handler runs thousands of times a second under load, and per-machine boot
    // progress is recorded through IBootProgressSink anyway. What an operator must see (NAK, DECLINE, empty pool) is
    // Information or Warning.
    private void LogOffered(DhcpRequestContext c, IPAddress address, BootKind boot, DhcpDestinationKind destination) =>
        Offered(_logger, address, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, boot, destination);

    private void LogAcked(DhcpRequestContext c, IPAddress address, double seconds, DhcpDestinationKind destination) =>
        Acked(_logger, address, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, seconds, destination);

    private void LogNakked(DhcpRequestContext c, IPAddress address, string reason) =>
        Nakked(_logger, address, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, reason);

    private void LogNoAddress(DhcpRequestContext c, DhcpMessageType type, string reason) =>
        NoAddressFor(_logger, type, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, c.Message.RelayAgentIPAddress, reason);

    private void LogDeclined(DhcpRequestContext c, IPAddress address) =>
        Declined(_logger, address, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name);

    private void LogReleased(DhcpRequestContext c, IPAddress address) =>
        Released(_logger, address, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name);

    private void LogInformed(DhcpRequestContext c, DhcpDestinationKind destination) =>
        Informed(_logger, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, destination);

    private void LogProxyReplied(DhcpRequestContext c, DhcpMessageType type, BootKind boot, DhcpDestinationKind destination) =>
        ProxyReplied(_logger, type, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, boot, destination);

    private void LogNotBootClient(DhcpRequestContext c, DhcpMessageType type) =>
        NotBootClient(_logger, type, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name);

    private void LogOtherServer(DhcpRequestContext c, string serverId) =>
        OtherServer(_logger, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, serverId);

    private void LogIgnored(DhcpRequestContext c, string reason) =>
        Ignored(_logger, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, reason);

    private void LogSilent(DhcpRequestContext c, DhcpMessageType type, string reason) =>
        Silent(_logger, type, new LoggedMac(c.Message), c.Message.TransactionId, c.Link.Name, reason);

    [LoggerMessage(EventIds.Offered, LogLevel.Debug, "DHCPOFFER {Address} to {Mac} xid 0x{Xid:x8} on {Interface} (boot {Boot}, sent {Destination})")]
    private static partial void Offered(ILogger logger, IPAddress address, LoggedMac mac, uint xid, string @interface, BootKind boot, DhcpDestinationKind destination);

    [LoggerMessage(EventIds.Acked, LogLevel.Debug, "DHCPACK {Address} to {Mac} xid 0x{Xid:x8} on {Interface} for {LeaseSeconds} s (sent {Destination})")]
    private static partial void Acked(ILogger logger, IPAddress address, LoggedMac mac, uint xid, string @interface, double leaseSeconds, DhcpDestinationKind destination);

    [LoggerMessage(EventIds.Nakked, LogLevel.Information, "DHCPNAK {Address} to {Mac} xid 0x{Xid:x8} on {Interface}: {Reason}")]
    private static partial void Nakked(ILogger logger, IPAddress address, LoggedMac mac, uint xid, string @interface, string reason);

    [LoggerMessage(EventIds.NoAddress, LogLevel.Warning, "No address for {MessageType} from {Mac} xid 0x{Xid:x8} on {Interface} (giaddr {RelayAddress}): {Reason}")]
    private static partial void NoAddressFor(ILogger logger, DhcpMessageType messageType, LoggedMac mac, uint xid, string @interface, IPAddress relayAddress, string reason);

    [LoggerMessage(EventIds.Declined, LogLevel.Warning, "DHCPDECLINE: {Mac} xid 0x{Xid:x8} on {Interface} found {Address} in use; the address is quarantined")]
    private static partial void Declined(ILogger logger, IPAddress address, LoggedMac mac, uint xid, string @interface);

    [LoggerMessage(EventIds.Released, LogLevel.Debug, "DHCPRELEASE {Address} from {Mac} xid 0x{Xid:x8} on {Interface}")]
    private static partial void Released(ILogger logger, IPAddress address, LoggedMac mac, uint xid, string @interface);

    [LoggerMessage(EventIds.Informed, LogLevel.Debug, "DHCPACK to DHCPINFORM from {Mac} xid 0x{Xid:x8} on {Interface} (sent {Destination})")]
    private static partial void Informed(ILogger logger, LoggedMac mac, uint xid, string @interface, DhcpDestinationKind destination);

    [LoggerMessage(EventIds.ProxyReplied, LogLevel.Debug, "proxyDHCP {MessageType} to {Mac} xid 0x{Xid:x8} on {Interface} (boot {Boot}, sent {Destination})")]
    private static partial void ProxyReplied(ILogger logger, DhcpMessageType messageType, LoggedMac mac, uint xid, string @interface, BootKind boot, DhcpDestinationKind destination);

    [LoggerMessage(EventIds.NotBootClient, LogLevel.Debug, "proxyDHCP: {MessageType} from {Mac} xid 0x{Xid:x8} on {Interface} is not a network-boot client; not answered")]
    private static partial void NotBootClient(ILogger logger, DhcpMessageType messageType, LoggedMac mac, uint xid, string @interface);

    [LoggerMessage(EventIds.OtherServer, LogLevel.Debug, "DHCPREQUEST from {Mac} xid 0x{Xid:x8} on {Interface} is for server {ServerId}; not answered")]
    private static partial void OtherServer(ILogger logger, LoggedMac mac, uint xid, string @interface, string serverId);

    [LoggerMessage(EventIds.Ignored, LogLevel.Debug, "Ignored a request from {Mac} xid 0x{Xid:x8} on {Interface}: {Reason}")]
    private static partial void Ignored(ILogger logger, LoggedMac mac, uint xid, string @interface, string reason);

    [LoggerMessage(EventIds.Silent, LogLevel.Debug, "No answer to {MessageType} from {Mac} xid 0x{Xid:x8} on {Interface}: {Reason}")]
    private static partial void Silent(ILogger logger, DhcpMessageType messageType, LoggedMac mac, uint xid, string @interface, string reason);
}

/// <summary>A client hardware address for logs, formatted (aa:bb:cc:…) only when a message is written.</summary>
internal readonly struct LoggedMac
{
    private readonly DhcpMessage? _message;
    private readonly byte[]? _bytes;

    public LoggedMac(DhcpMessage message) => _message = message;

    public LoggedMac(byte[] bytes) => _bytes = bytes;

    public override string ToString()
    {
        var bytes = _message is not null ? _message.ClientHardwareAddress.ToArray() : _bytes ?? [];
        return bytes.Length == 0 ? "(none)" : string.Join(':', bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
