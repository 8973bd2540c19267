using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NekkoMetal.Dhcp.Boot;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Server;

/// <summary>
/// Message in, reply (or nothing) out: RFC 2131 server behaviour for authoritative and proxy interfaces, plus the boot
/// information of <see cref="BootDecisionTable"/>. No sockets and no clock; the lease store and the progress sink are
/// injected. Thread-safe: the transport calls it concurrently.
/// </summary>
/// <remarks>See <c>src/Dhcp/README.md</c> for the rules (destinations, proxy replies, options sent).</remarks>
public sealed partial class DhcpHandler
{
    public const string PxeClientVendorClass = "PXEClient";
    public const string HttpClientVendorClass = "HTTPClient";

    /// <summary>Path under the HTTP base where NBPs and the first iPXE script are served.</summary>
    public const string HttpBootPath = "/boot/";

    private const int IpUdpHeaderLength = 28;
    private const int MinimumMaxMessageSize = 576;
    private const byte PxeBootItem = 71;

    /// <summary>Option 43 for PXE clients: PXE_DISCOVERY_CONTROL (6) = 8, "boot file in this packet, no prompt, menu or discovery" (PXE 2.1 §2.3.5), then end.</summary>
    private static readonly byte[] PxeVendorOptions = [6, 1, 8, 255];

    /// <summary>Option 175 sub-option 176 (no-pxedhcp) = 1: iPXE does not wait for proxyDHCP offers.</summary>
    private static readonly byte[] IpxeNoPxeDhcp = [(byte)IpxeOptionCode.NoPxeDhcp, 1, 1];

    private readonly DhcpServerOptions _options;
    private readonly BootDecisionTable _bootTable;
    private readonly IDhcpLeaseStore? _store;
    private readonly IBootProgressSink _progress;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>MACs that were handed our iPXE binary over TFTP, and when (only with <see cref="DhcpServerOptions.ChainIpxe"/>).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _chained = new(StringComparer.Ordinal);

    public DhcpHandler(IOptions<DhcpServerOptions> options, ILogger<DhcpHandler> logger, IDhcpLeaseStore? store = null, IBootProgressSink? progress = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _bootTable = new BootDecisionTable(_options.Boot);
        _store = store;
        _progress = progress ?? NullBootProgressSink.Instance;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>False when no <see cref="IDhcpLeaseStore"/> was given: only proxy interfaces can be served.</summary>
    public bool HasLeaseStore => _store is not null;

    public BootDecisionTable BootTable => _bootTable;

    /// <summary>
    /// Handles one request. Returns null to stay silent. Throws only for bugs, a failing lease store, or cancellation;
    /// the transport logs and drops such a request.
    /// </summary>
    public ValueTask<DhcpReply?> HandleAsync(DhcpRequestContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Message;
        if (request.Op != DhcpOpCode.BootRequest)
        {
            LogIgnored(context, "not a BOOTREQUEST");
            return default;
        }

        if (request.Options.MessageType is not { } type)
        {
            LogIgnored(context, "no DHCP message type (plain BOOTP is not served)");
            return default;
        }

        var boot = ChainIfDue(request, _bootTable.Decide(request.Options));
        if (context.ReceivedOn == DhcpListenerKind.Proxy || context.Link.Mode == DhcpMode.Proxy)
        {
            return new ValueTask<DhcpReply?>(HandleProxy(context, type, boot));
        }

        return HandleAuthoritativeAsync(context, type, boot, ct);
    }

    /// <summary>
    /// With <see cref="DhcpServerOptions.ChainIpxe"/>: an iPXE client (a NIC ROM, or a USB stick) that has not been given
    /// our iPXE binary in the last <see cref="DhcpServerOptions.ChainIpxeWindow"/> gets the TFTP NBP a plain PXE client of
    /// its architecture would get (undionly.kpxe, ipxe.efi); the iPXE that NBP starts asks again and gets its script.
    /// No DHCP option tells a NIC ROM's iPXE from the chained one (PXE-VM.md), hence the per-MAC memory.
    /// </summary>
    private BootDecision ChainIfDue(DhcpMessage request, BootDecision boot)
    {
        if (!_options.ChainIpxe || boot.Kind != BootKind.IpxeScript || request.ClientMacAddress is not { } mac)
        {
            return boot;
        }

        var key = mac.ToString();
        var now = _time.GetUtcNow();
        if (_chained.TryGetValue(key, out var at) && now - at < _options.ChainIpxeWindow)
        {
            return boot;
        }

        var facts = BootClientFacts.FromOptions(request.Options) with { UserClasses = null, HasIpxeEncapsulatedOptions = false };
        var nbp = _bootTable.Decide(facts with { VendorClass = facts.VendorClass ?? BootDecisionTable.PxeClientPrefix });
        if (nbp.Kind != BootKind.TftpNbp)
        {
            return boot;
        }

        if (request.Options.MessageType == DhcpMessageType.Request)
        {
            _chained[key] = now; // the ACK carries the NBP: the next iPXE to ask from this MAC is ours
            foreach (var (old, when) in _chained)
            {
                if (now - when > _options.ChainIpxeWindow)
                {
                    _chained.TryRemove(old, out _);
                }
            }
        }

        return nbp;
    }

    /// <summary>Replaces <c>{server}</c> in <paramref name="template"/> and drops a trailing slash.</summary>
    public static string ExpandHttpBase(string template, IPAddress server)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(server);
        return template.Replace("{server}", server.ToString(), StringComparison.Ordinal).TrimEnd('/');
    }

    /// <summary>The URL of a file under <see cref="HttpBootPath"/> as seen from a link where we are <paramref name="server"/>.</summary>
    public string HttpBootUrl(IPAddress server, string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return ExpandHttpBase(_options.HttpBase, server) + HttpBootPath + file.TrimStart('/');
    }

    // ---- proxyDHCP -------------------------------------------------------------------------------------------

    /// <summary>
    /// proxyDHCP (PXE 2.1 §2.2; dnsmasq's proxy mode): only network-boot clients are answered, with <c>yiaddr</c>
    /// 0 and boot information only: DISCOVER on the server port gets an OFFER, REQUEST (or INFORM) on the PXE port
    /// gets an ACK. Everything else (REQUEST on port 67, RELEASE, ...) belongs to the link's real DHCP server.
    /// </summary>
    private DhcpReply? HandleProxy(DhcpRequestContext context, DhcpMessageType type, BootDecision boot)
    {
        var request = context.Message;
        if (boot.Kind == BootKind.None)
        {
            LogNotBootClient(context, type);
            return null;
        }

        DhcpMessageType replyType;
        if (context.ReceivedOn == DhcpListenerKind.Server)
        {
            if (type != DhcpMessageType.Discover)
            {
                LogIgnored(context, "proxy mode answers only DISCOVER on the server port");
                return null;
            }

            Seen(request, DhcpBootStages.DhcpDiscover);
            replyType = DhcpMessageType.Offer;
        }
        else
        {
            if (type is not (DhcpMessageType.Request or DhcpMessageType.Inform))
            {
                LogIgnored(context, "the PXE port answers only REQUEST and INFORM");
                return null;
            }

            replyType = DhcpMessageType.Ack;
        }

        var serverId = ServerIdentifier(context);
        var reply = DhcpMessage.CreateReply(request);
        reply.ClientIPAddress = replyType == DhcpMessageType.Ack ? request.ClientIPAddress : IPAddress.Any;
        if (reply.ClientIPAddress.Equals(IPAddress.Any))
        {
            // yiaddr is 0: neither we nor a relay can unicast to the client (dnsmasq does the same).
            reply.IsBroadcast = true;
        }

        var items = new ReplyOptionList(request.Options.ParameterRequestList);
        ApplyBootInformation(reply, items, request, boot, serverId, proxy: true, echoBootItem: context.ReceivedOn == DhcpListenerKind.Proxy);
        Finish(reply, request, replyType, serverId, items);
        var destination = Route(context, reply, replyType);
        if (replyType == DhcpMessageType.Ack)
        {
            Seen(request, DhcpBootStages.DhcpAck);
        }

        LogProxyReplied(context, replyType, boot.Kind, destination.Kind);
        return new DhcpReply(reply, destination);
    }

    // ---- authoritative ---------------------------------------------------------------------------------------

    private async ValueTask<DhcpReply?> HandleAuthoritativeAsync(DhcpRequestContext context, DhcpMessageType type, BootDecision boot, CancellationToken ct)
    {
        var store = _store ?? throw new InvalidOperationException("Authoritative DHCP needs an IDhcpLeaseStore; none is registered.");
        var request = context.Message;
        var serverId = ServerIdentifier(context);
        var lease = CreateLeaseRequest(context, serverId);
        switch (type)
        {
            case DhcpMessageType.Discover:
                {
                    SeenIfBooting(request, boot, DhcpBootStages.DhcpDiscover);
                    var result = await store.OfferAsync(lease, ct);
                    if (result.Outcome == LeaseOutcome.Granted && result.Grant is { } grant)
                    {
                        var offer = LeaseReply(context, DhcpMessageType.Offer, grant, boot, serverId, inform: false);
                        LogOffered(context, grant.Address, boot.Kind, offer.Destination.Kind);
                        return offer;
                    }

                    LogSilentOrNoAddress(context, type, result);
                    return null;
                }

            case DhcpMessageType.Request:
                return await RequestAsync(context, store, lease, boot, serverId, ct);

            case DhcpMessageType.Decline:
                {
                    // RFC 2131 §4.3.3: option 54 names the server, option 50 the address.
                    if (!IsOurs(request.Options.ServerIdentifier, context, serverId) || request.Options.RequestedIPAddress is not { } address)
                    {
                        LogIgnored(context, "DECLINE without our server identifier or a requested address");
                        return null;
                    }

                    await store.DeclineAsync(lease, address, ct);
                    LogDeclined(context, address);
                    return null;
                }

            case DhcpMessageType.Release:
                {
                    if ((request.Options.Contains(DhcpOptionCode.ServerIdentifier) && !IsOurs(request.Options.ServerIdentifier, context, serverId))
                        || NonZero(request.ClientIPAddress) is not { } address)
                    {
                        LogIgnored(context, "RELEASE for another server or without ciaddr");
                        return null;
                    }

                    await store.ReleaseAsync(lease, address, ct);
                    LogReleased(context, address);
                    return null;
                }

            case DhcpMessageType.Inform:
                {
                    var grant = await store.InformAsync(lease, ct);
                    if (grant is null)
                    {
                        LogSilent(context, type, "no configuration for this link");
                        return null;
                    }

                    var ack = LeaseReply(context, DhcpMessageType.Ack, grant, boot, serverId, inform: true);
                    LogInformed(context, ack.Destination.Kind);
                    return ack;
                }

            default:
                LogIgnored(context, "a server message type from a client");
                return null;
        }
    }

    /// <summary>RFC 2131 §4.3.2: SELECTING (option 54), INIT-REBOOT (option 50, no 54), RENEWING/REBINDING (ciaddr).</summary>
    private async ValueTask<DhcpReply?> RequestAsync(DhcpRequestContext context, IDhcpLeaseStore store, LeaseRequest lease, BootDecision boot, IPAddress serverId, CancellationToken ct)
    {
        var request = context.Message;
        IPAddress? address;
        bool selecting;
        if (request.Options.Contains(DhcpOptionCode.ServerIdentifier))
        {
            if (!IsOurs(request.Options.ServerIdentifier, context, serverId))
            {
                // The client took another server's offer: ours is free again.
                store.WithdrawOffer(lease);
                LogOtherServer(context, request.Options.ServerIdentifier?.ToString() ?? "malformed");
                return null;
            }

            address = request.Options.RequestedIPAddress ?? NonZero(request.ClientIPAddress);
            selecting = true;
        }
        else
        {
            address = NonZero(request.ClientIPAddress) ?? request.Options.RequestedIPAddress;
            selecting = false;
        }

        if (address is null)
        {
            LogIgnored(context, "REQUEST without a requested address or ciaddr");
            return null;
        }

        var result = await store.RequestAsync(lease, address, selecting, ct);
        switch (result.Outcome)
        {
            case LeaseOutcome.Granted when result.Grant is { } grant:
                var ack = LeaseReply(context, DhcpMessageType.Ack, grant, boot, serverId, inform: false);
                SeenIfBooting(request, boot, DhcpBootStages.DhcpAck);
                LogAcked(context, grant.Address, grant.LeaseTime.TotalSeconds, ack.Destination.Kind);
                return ack;
            case LeaseOutcome.Nak:
                var nak = NakReply(context, serverId, result.Reason);
                LogNakked(context, address, result.Reason ?? "");
                return nak;
            default:
                LogSilentOrNoAddress(context, DhcpMessageType.Request, result);
                return null;
        }
    }

    private DhcpReply LeaseReply(DhcpRequestContext context, DhcpMessageType replyType, LeaseGrant grant, BootDecision boot, IPAddress serverId, bool inform)
    {
        var request = context.Message;
        var reply = DhcpMessage.CreateReply(request);

        // RFC 2131 §4.3.1 table 3: ciaddr is the request's in an ACK, 0 in an OFFER; an ACK to INFORM has no yiaddr.
        reply.YourIPAddress = inform ? IPAddress.Any : grant.Address;
        reply.ClientIPAddress = replyType == DhcpMessageType.Ack ? request.ClientIPAddress : IPAddress.Any;
        var items = new ReplyOptionList(request.Options.ParameterRequestList);
        if (!inform)
        {
            var seconds = LeaseSeconds(grant.LeaseTime);
            items.AddLeading(DhcpOptionCode.IPAddressLeaseTime, UInt32(seconds));
            if (seconds != uint.MaxValue)
            {
                items.AddLeading(DhcpOptionCode.RenewalTimeValue, UInt32(seconds / 2));
                items.AddLeading(DhcpOptionCode.RebindingTimeValue, UInt32((uint)(seconds * 7UL / 8)));
            }
        }

        items.Add(DhcpOptionCode.SubnetMask, DhcpMessage.GetIPv4Bytes(grant.SubnetMask), essential: true);
        if (grant.Router is { } router)
        {
            items.Add(DhcpOptionCode.Router, DhcpMessage.GetIPv4Bytes(router));
        }

        if (grant.Dns is { Count: > 0 } dns)
        {
            var bytes = new byte[dns.Count * 4];
            for (var i = 0; i < dns.Count; i++)
            {
                DhcpMessage.GetIPv4Bytes(dns[i]).CopyTo(bytes, i * 4);
            }

            items.Add(DhcpOptionCode.DomainNameServer, bytes);
        }

        if (!string.IsNullOrEmpty(grant.DomainName))
        {
            items.Add(DhcpOptionCode.DomainName, Latin1(grant.DomainName));
        }

        if (!string.IsNullOrEmpty(grant.HostName))
        {
            items.Add(DhcpOptionCode.HostName, Latin1(grant.HostName));
        }

        ApplyBootInformation(reply, items, request, boot, serverId, proxy: false, echoBootItem: false);
        Finish(reply, request, replyType, serverId, items);
        return new DhcpReply(reply, Route(context, reply, replyType));
    }

    /// <summary>RFC 2131 §4.3.2 table 3: a NAK carries only 53, 54, 56 (why), 61 and 82; <c>yiaddr</c>/<c>ciaddr</c> 0.</summary>
    private DhcpReply NakReply(DhcpRequestContext context, IPAddress serverId, string? reason)
    {
        var request = context.Message;
        var reply = DhcpMessage.CreateReply(request);
        var items = new ReplyOptionList(null);
        if (!string.IsNullOrEmpty(reason))
        {
            items.Add(DhcpOptionCode.Message, Latin1(Truncate(reason, 200)));
        }

        Finish(reply, request, DhcpMessageType.Nak, serverId, items);
        return new DhcpReply(reply, Route(context, reply, DhcpMessageType.Nak));
    }

    // ---- boot information --------------------------------------------------------------------------------------

    /// <summary>
    /// Boot information for a network-boot client, in the BOOTP fields (old ROMs read only those) and in options.
    /// TFTP NBP: <c>siaddr</c>/66 our address, <c>file</c>/67 the file, 60 <c>PXEClient</c>, 43 discovery control 8,
    /// 97 echoed. HTTP NBP: 67 the URL, 60 <c>HTTPClient</c> (OVMF ignores offers without it). iPXE: 67 the URL of
    /// the first script, 175.176 = 1, and 60 <c>PXEClient</c> only in proxy replies (iPXE recognises a proxy offer by it).
    /// </summary>
    private void ApplyBootInformation(DhcpMessage reply, ReplyOptionList items, DhcpMessage request, BootDecision boot, IPAddress server, bool proxy, bool echoBootItem)
    {
        string? vendorClass = null;
        switch (boot.Kind)
        {
            case BootKind.None:
                return;
            case BootKind.TftpNbp:
                {
                    var file = boot.Resource ?? "";
                    reply.ServerIPAddress = server;
                    SetBootFileField(reply, file);
                    items.Add(DhcpOptionCode.TftpServerName, Latin1(server.ToString()), essential: true);
                    items.Add(DhcpOptionCode.BootFileName, Latin1(file), essential: true);
                    items.Add(DhcpOptionCode.VendorSpecificInformation, PxeVendorSpecific(request, echoBootItem), essential: true);
                    vendorClass = PxeClientVendorClass;
                    break;
                }

            case BootKind.HttpNbp:
            case BootKind.IpxeScript:
                {
                    var url = HttpBootUrl(server, boot.Resource ?? "");
                    reply.ServerIPAddress = server;
                    SetBootFileField(reply, url);
                    items.Add(DhcpOptionCode.BootFileName, Latin1(url), essential: true);
                    vendorClass = boot.Kind == BootKind.IpxeScript && proxy ? PxeClientVendorClass : null;
                    break;
                }
        }

        if (boot.EchoHttpClientVendorClass)
        {
            vendorClass = HttpClientVendorClass;
        }

        if (boot.SendIpxeNoPxeDhcp)
        {
            items.Add(DhcpOptionCode.IpxeEncapsulated, IpxeNoPxeDhcp, essential: true);
        }

        if (vendorClass is not null)
        {
            items.Add(DhcpOptionCode.VendorClassIdentifier, Latin1(vendorClass), essential: true);
        }

        // PXE 2.1 §2.2.5: PXE servers echo the client's UUID/GUID (option 97).
        if (vendorClass == PxeClientVendorClass && request.Options.TryGet(DhcpOptionCode.ClientMachineIdentifier, out var uuid))
        {
            items.Add(DhcpOptionCode.ClientMachineIdentifier, uuid.ToArray());
        }
    }

    private static byte[] PxeVendorSpecific(DhcpMessage request, bool echoBootItem)
    {
        // A boot-server request on the PXE port may carry PXE_BOOT_ITEM (71, type and layer); the reply echoes it.
        if (echoBootItem
            && request.Options.GetSubOptions(DhcpOptionCode.VendorSpecificInformation) is { } sub
            && sub.TryGet(PxeBootItem, out var item) && item.Length == 4)
        {
            return [6, 1, 8, PxeBootItem, 4, .. item.Span, 255];
        }

        return PxeVendorOptions;
    }

    private static void SetBootFileField(DhcpMessage reply, string value)
    {
        // The field holds 127 bytes and a NUL; a longer URL travels in option 67 only.
        if (value.Length < DhcpMessage.BootFileFieldLength)
        {
            reply.BootFileName = value;
        }
    }

    // ---- common ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Message type and server identifier first, then lease times, then the options the client asked for in its
    /// option 55 order, then the rest, then 61 echoed (RFC 6842) and 82 last (RFC 3046). Options the client did not
    /// ask for, then ones it did, are dropped while the reply exceeds what it accepts (option 57; 576 without it).
    /// </summary>
    private void Finish(DhcpMessage reply, DhcpMessage request, DhcpMessageType replyType, IPAddress serverId, ReplyOptionList items)
    {
        reply.Options.MessageType = replyType;
        reply.Options.ServerIdentifier = serverId;
        foreach (var item in items.Ordered())
        {
            reply.Options.Set(item.Code, item.Value);
        }

        if (request.Options.TryGet(DhcpOptionCode.ClientIdentifier, out var clientId))
        {
            reply.Options.Set(DhcpOptionCode.ClientIdentifier, clientId.Span);
        }

        var limit = MaxReplySize(request);
        while (reply.GetEncodedLength() > limit && items.TryTakeLeastImportant(out var code))
        {
            reply.Options.Remove(code);
        }
    }

    private int MaxReplySize(DhcpMessage request)
    {
        // Option 57 counts the IP and UDP headers (as ISC and Kea read it); RFC 2131 §2 lets every client take 576.
        var announced = Math.Max((int?)request.Options.MaxMessageSize ?? MinimumMaxMessageSize, MinimumMaxMessageSize);
        return Math.Min(announced, _options.Limits.MaxDatagramSize) - IpUdpHeaderLength;
    }

    /// <summary>RFC 2131 §4.1 (and PXE 2.1 for the PXE port): where a reply goes.</summary>
    private DhcpDestination Route(DhcpRequestContext context, DhcpMessage reply, DhcpMessageType replyType)
    {
        var request = context.Message;
        if (context.ReceivedOn == DhcpListenerKind.Proxy)
        {
            // Back to where the request came from (dnsmasq): the client has an address by now and listens on its source port.
            var address = NonZero(request.ClientIPAddress) ?? NonZero(context.Source.Address);
            return address is null
                ? new DhcpDestination(DhcpDestinationKind.Broadcast, new IPEndPoint(IPAddress.Broadcast, context.Source.Port))
                : new DhcpDestination(DhcpDestinationKind.Unicast, new IPEndPoint(address, context.Source.Port));
        }

        if (NonZero(request.RelayAgentIPAddress) is { } relay)
        {
            if (replyType == DhcpMessageType.Nak)
            {
                // §4.3.2: the relay broadcasts a NAK to the client.
                reply.IsBroadcast = true;
            }

            return new DhcpDestination(DhcpDestinationKind.RelayAgent, new IPEndPoint(relay, _options.RelayAgentPort));
        }

        if (replyType == DhcpMessageType.Nak)
        {
            return new DhcpDestination(DhcpDestinationKind.Broadcast, new IPEndPoint(IPAddress.Broadcast, _options.ClientPort));
        }

        if (NonZero(request.ClientIPAddress) is { } ciaddr)
        {
            return new DhcpDestination(DhcpDestinationKind.Unicast, new IPEndPoint(ciaddr, _options.ClientPort));
        }

        if (request.IsBroadcast || NonZero(reply.YourIPAddress) is null)
        {
            return new DhcpDestination(DhcpDestinationKind.Broadcast, new IPEndPoint(IPAddress.Broadcast, _options.ClientPort));
        }

        return new DhcpDestination(
            DhcpDestinationKind.ClientHardwareAddress,
            new IPEndPoint(reply.YourIPAddress, _options.ClientPort),
            new PhysicalAddress(request.ClientHardwareAddress.ToArray()));
    }

    /// <summary>
    /// Our address on the link: the interface's, except for relayed requests sent to another of our unicast
    /// addresses, where that one is what the client can reach.
    /// </summary>
    private static IPAddress ServerIdentifier(DhcpRequestContext context)
    {
        if (NonZero(context.Message.RelayAgentIPAddress) is not null
            && context.LocalAddress is { } local
            && DhcpServerOptionsValidator.IsUnicastIPv4(local))
        {
            return local;
        }

        return context.Link.Address;
    }

    private static bool IsOurs(IPAddress? claimed, DhcpRequestContext context, IPAddress serverId) =>
        claimed is not null && (claimed.Equals(serverId) || claimed.Equals(context.Link.Address));

    private static LeaseRequest CreateLeaseRequest(DhcpRequestContext context, IPAddress serverId)
    {
        var request = context.Message;
        var options = request.Options;
        return new LeaseRequest(
            new PhysicalAddress(request.ClientHardwareAddress.ToArray()),
            options.TryGet(DhcpOptionCode.ClientIdentifier, out var clientId) ? clientId : ReadOnlyMemory<byte>.Empty,
            NonZero(request.RelayAgentIPAddress) ?? context.Link.Address,
            context.Link.Name,
            options.RequestedIPAddress ?? NonZero(request.ClientIPAddress),
            options.HostName,
            options.ClientMachineId,
            serverId);
    }

    /// <summary>
    /// Boot progress is for machines that network-boot: a phone or a laptop taking an ordinary lease on the
    /// provisioning LAN is not a machine being provisioned, and recording every such MAC (phones randomise theirs)
    /// would grow etcd without bound.
    /// </summary>
    private void SeenIfBooting(DhcpMessage request, BootDecision boot, string stage)
    {
        if (boot.Kind != BootKind.None)
        {
            Seen(request, stage);
        }
    }

    private void Seen(DhcpMessage request, string stage) =>
        _progress.DhcpSeen(new PhysicalAddress(request.ClientHardwareAddress.ToArray()), request.Options.ClientMachineId, stage);

    internal static uint LeaseSeconds(TimeSpan leaseTime) =>
        leaseTime == Timeout.InfiniteTimeSpan || leaseTime.TotalSeconds >= uint.MaxValue ? uint.MaxValue : (uint)Math.Max(1, leaseTime.TotalSeconds);

    private static byte[] UInt32(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static byte[] Latin1(string value) => Encoding.Latin1.GetBytes(value);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    private static IPAddress? NonZero(IPAddress address) => address.Equals(IPAddress.Any) ? null : address;

    private void LogSilentOrNoAddress(DhcpRequestContext context, DhcpMessageType type, LeaseResult result)
    {
        if (result.Outcome == LeaseOutcome.NoAddress)
        {
            LogNoAddress(context, type, result.Reason ?? "");
        }
        else
        {
            LogSilent(context, type, result.Reason ?? result.Outcome.ToString());
        }
    }

    /// <summary>The options of one reply before they are written: their order and which may be dropped for size.</summary>
    private sealed class ReplyOptionList(IReadOnlyList<DhcpOptionCode>? requested)
    {
        private readonly List<Item> _items = [];

        public readonly record struct Item(DhcpOptionCode Code, byte[] Value, bool Essential, bool Leading, int Sequence);

        public void AddLeading(DhcpOptionCode code, byte[] value) => _items.Add(new Item(code, value, true, true, _items.Count));

        public void Add(DhcpOptionCode code, byte[] value, bool essential = false) => _items.Add(new Item(code, value, essential, false, _items.Count));

        /// <summary>Leading options first, then those asked for in the client's order, then the rest, each group in the order added (sorted in place: no LINQ sorter per reply).</summary>
        public List<Item> Ordered()
        {
            _items.Sort((a, b) => Rank(a) != Rank(b) ? Rank(a).CompareTo(Rank(b)) : a.Sequence.CompareTo(b.Sequence));
            return _items;
        }

        /// <summary>The last option not asked for, else the last one asked for; never an essential one.</summary>
        public bool TryTakeLeastImportant(out DhcpOptionCode code)
        {
            var candidates = _items.Where(i => !i.Essential).OrderBy(i => RequestedIndex(i.Code) >= 0 ? 0 : 1).ThenBy(Rank).ThenBy(i => i.Sequence).ToList();
            if (candidates.Count == 0)
            {
                code = default;
                return false;
            }

            var take = candidates[^1];
            _items.Remove(take);
            code = take.Code;
            return true;
        }

        private int Rank(Item item)
        {
            if (item.Leading)
            {
                return -1;
            }

            var index = RequestedIndex(item.Code);
            return index >= 0 ? index : int.MaxValue;
        }

        private int RequestedIndex(DhcpOptionCode code)
        {
            if (requested is null)
            {
                return -1;
            }

            for (var i = 0; i < requested.Count; i++)
            {
                if (requested[i] == code)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
