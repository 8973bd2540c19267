using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Dhcp.Tests.Server;
using NekkoMetal.Dhcp.Transport;

namespace NekkoMetal.Dhcp.Tests.Transport;

/// <summary>
/// The server on real UDP sockets bound to the loopback interface on high ports, spoken to the way perfdhcp does: as
/// a relay agent (giaddr set) that sends from its own port and takes the replies there. Loopback only.
/// </summary>
public sealed class LoopbackServerTests : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);
    private readonly TestLoggerFactory _logs = new();
    private readonly List<DhcpServer> _servers = [];
    private readonly List<Socket> _sockets = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.StopAsync(CancellationToken.None);
            server.Dispose();
        }

        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

    internal static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private sealed record Running(DhcpServer Server, DhcpServerOptions Options, InMemoryLeaseStore Store, IPEndPoint ServerEndPoint, IPEndPoint ProxyEndPoint);

    private async Task<Running> StartAsync(DhcpMode mode, int relayPort, string subnet = "127.0.0.0/24", string start = "127.0.0.100", string end = "127.0.0.150", string itf = "lo", int maxConcurrent = 256, Func<InMemoryLeaseStore, IDhcpLeaseStore>? wrap = null)
    {
        var options = new DhcpServerOptions
        {
            Interfaces = [new DhcpInterfaceOptions { Name = itf, Mode = mode }],
            ServerPort = FreeUdpPort(),
            ProxyPort = FreeUdpPort(),
            RelayAgentPort = relayPort,
            LeaseTime = TimeSpan.FromMinutes(10),
            MaxConcurrentRequests = maxConcurrent,
        };
        var store = new InMemoryLeaseStore(TimeProvider.System, options, InMemorySubnet.Parse(subnet, start, end, null, "127.0.0.1"));
        var o = Microsoft.Extensions.Options.Options.Create(options);
        var server = new DhcpServer(o, new DhcpHandler(o, _logs.CreateLogger<DhcpHandler>(), wrap is null ? store : wrap(store)), TimeProvider.System, _logs.CreateLogger<DhcpServer>());
        _servers.Add(server);
        await server.StartAsync(CancellationToken.None);
        return new Running(server, options, store, new IPEndPoint(IPAddress.Loopback, options.ServerPort), new IPEndPoint(IPAddress.Loopback, options.ProxyPort));
    }

    private Socket Bind(string address, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sockets.Add(socket);
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), port));
        return socket;
    }

    private static async Task SendAsync(Socket socket, DhcpMessage message, IPEndPoint to) =>
        await socket.SendToAsync(TestPackets.Encode(message), SocketFlags.None, to);

    private static async Task<(DhcpMessage Message, IPEndPoint From)> ReceiveAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        var buffer = new byte[2048];
        var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        return (TestPackets.Parse(buffer[..result.ReceivedBytes]), (IPEndPoint)result.RemoteEndPoint);
    }

    private static DhcpMessage Relayed(string golden, string giaddr, uint? xid = null, byte? macLast = null)
    {
        var message = HandlerHarness.Golden(golden);
        message.RelayAgentIPAddress = IPAddress.Parse(giaddr);
        message.Hops = 1;
        if (xid is { } x)
        {
            message.TransactionId = x;
        }

        if (macLast is { } last)
        {
            var mac = message.ClientHardwareAddress.ToArray();
            mac[^1] = last;
            message.SetClientHardwareAddress(mac);
            message.Options.ClientIdentifier = (byte[])[1, .. mac];
        }

        return message;
    }

    [Fact]
    public async Task Relayed_dora_like_perfdhcp()
    {
        var relayPort = FreeUdpPort();
        var s = await StartAsync(DhcpMode.Authoritative, relayPort);
        var relay = Bind("127.0.0.2", relayPort);

        await SendAsync(relay, Relayed("udhcpc-discover.bin", "127.0.0.2"), s.ServerEndPoint);
        var (offer, offerFrom) = await ReceiveAsync(relay);
        var request = Relayed("udhcpc-request-selecting.bin", "127.0.0.2");
        request.Options.ServerIdentifier = offer.Options.ServerIdentifier;
        request.Options.RequestedIPAddress = offer.YourIPAddress;
        await SendAsync(relay, request, s.ServerEndPoint);
        var (ack, _) = await ReceiveAsync(relay);

        Assert.Equal(DhcpMessageType.Offer, offer.Options.MessageType);
        Assert.Equal(IPAddress.Parse("127.0.0.100"), offer.YourIPAddress);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), offer.RelayAgentIPAddress);
        Assert.Equal(IPAddress.Loopback, offer.Options.ServerIdentifier);
        Assert.Equal(s.Options.ServerPort, offerFrom.Port);
        Assert.Equal(DhcpMessageType.Ack, ack.Options.MessageType);
        Assert.Equal(IPAddress.Parse("127.0.0.100"), ack.YourIPAddress);
        Assert.Equal(InMemoryLeaseStore.LeaseState.Bound, Assert.Single(s.Store.Leases).State);
        Assert.Equal([new DhcpLink("lo", DhcpMode.Authoritative, IPAddress.Loopback)], s.Server.Links);
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3101 && e.Message.Contains("lo", StringComparison.Ordinal) && e.Message.Contains("Authoritative", StringComparison.Ordinal));
    }

    /// <summary>A lease store whose REQUESTs wait until <see cref="Open"/>: requests stuck on the store, as under overload.</summary>
    private sealed class GatedStore(InMemoryLeaseStore inner) : IDhcpLeaseStore
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        public ValueTask<LeaseResult> OfferAsync(LeaseRequest request, CancellationToken ct) => inner.OfferAsync(request, ct);

        public async ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct)
        {
            await _gate.Task.WaitAsync(ct);
            return await inner.RequestAsync(request, address, selecting, ct);
        }

        public void WithdrawOffer(LeaseRequest request) => inner.WithdrawOffer(request);

        public ValueTask ReleaseAsync(LeaseRequest request, IPAddress address, CancellationToken ct) => inner.ReleaseAsync(request, address, ct);

        public ValueTask DeclineAsync(LeaseRequest request, IPAddress address, CancellationToken ct) => inner.DeclineAsync(request, address, ct);

        public ValueTask<LeaseGrant?> InformAsync(LeaseRequest request, CancellationToken ct) => inner.InformAsync(request, ct);
    }

    [Fact]
    public async Task Overloaded_new_exchanges_are_shed_while_started_ones_wait_and_complete()
    {
        var relayPort = FreeUdpPort();
        GatedStore? gated = null;
        var s = await StartAsync(DhcpMode.Authoritative, relayPort, maxConcurrent: 4, wrap: inner => gated = new GatedStore(inner));
        var relay = Bind("127.0.0.2", relayPort);

        // two exchanges get their OFFERs, then their REQUESTs wait on the store: half of the 4 slots taken
        var offers = new List<DhcpMessage>();
        for (byte i = 1; i <= 2; i++)
        {
            await SendAsync(relay, Relayed("udhcpc-discover.bin", "127.0.0.2", xid: i, macLast: i), s.ServerEndPoint);
            offers.Add((await ReceiveAsync(relay)).Message);
        }

        for (byte i = 1; i <= 2; i++)
        {
            var request = Relayed("udhcpc-request-selecting.bin", "127.0.0.2", xid: i, macLast: i);
            request.Options.ServerIdentifier = offers[i - 1].Options.ServerIdentifier;
            request.Options.RequestedIPAddress = offers[i - 1].YourIPAddress;
            await SendAsync(relay, request, s.ServerEndPoint);
        }

        // a new exchange is shed: no OFFER
        await SendAsync(relay, Relayed("udhcpc-discover.bin", "127.0.0.2", xid: 3, macLast: 3), s.ServerEndPoint);
        using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            var buffer = new byte[2048];
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await relay.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), quiet.Token));
        }

        // the started exchanges complete once the store answers, and new ones are served again
        gated!.Open();
        var acks = new[] { (await ReceiveAsync(relay)).Message, (await ReceiveAsync(relay)).Message };
        Assert.All(acks, a => Assert.Equal(DhcpMessageType.Ack, a.Options.MessageType));
        Assert.Equal(new uint[] { 1, 2 }, acks.Select(a => a.TransactionId).Order());
        await SendAsync(relay, Relayed("udhcpc-discover.bin", "127.0.0.2", xid: 4, macLast: 3), s.ServerEndPoint);
        var late = (await ReceiveAsync(relay)).Message;
        Assert.Equal(DhcpMessageType.Offer, late.Options.MessageType);
        Assert.Equal(4u, late.TransactionId);
    }

    [Fact]
    public async Task Junk_and_server_replies_are_dropped_and_the_loop_goes_on()
    {
        var relayPort = FreeUdpPort();
        var s = await StartAsync(DhcpMode.Authoritative, relayPort);
        var relay = Bind("127.0.0.2", relayPort);

        await relay.SendToAsync(new byte[] { 1, 2, 3 }, SocketFlags.None, s.ServerEndPoint);
        await relay.SendToAsync(new byte[3000], SocketFlags.None, s.ServerEndPoint);
        var truncated = TestPackets.Encode(Relayed("ipxe-bios-discover.bin", "127.0.0.2"));
        await relay.SendToAsync(truncated[..260], SocketFlags.None, s.ServerEndPoint);
        await SendAsync(relay, HandlerHarness.Golden("udhcpd-offer.bin"), s.ServerEndPoint);
        await SendAsync(relay, Relayed("dhclient-discover.bin", "127.0.0.2"), s.ServerEndPoint);
        var (offer, _) = await ReceiveAsync(relay);

        Assert.Equal(0xd597471au, offer.TransactionId);
        var bad = _logs.Entries.Where(e => e.Id.Id == 3110).ToList();
        Assert.Equal(3, bad.Count);
        Assert.Contains(bad, e => e.Message.Contains("52:54:00:21:40:01", StringComparison.Ordinal) && e.Message.Contains("0xdece1112", StringComparison.Ordinal) && e.Message.Contains("lo", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3111);
    }

    [Fact]
    public async Task Two_hundred_relayed_clients_at_once_all_get_distinct_addresses()
    {
        var relayPort = FreeUdpPort();
        var s = await StartAsync(DhcpMode.Authoritative, relayPort, "127.1.0.0/16", "127.1.0.10", "127.1.3.250", maxConcurrent: 16);
        var relay = Bind("127.1.0.1", relayPort);
        relay.ReceiveBufferSize = 1 << 20;
        const int clients = 200;

        var replies = new Dictionary<uint, DhcpMessage>();
        var receiving = Task.Run(async () =>
        {
            while (replies.Count < clients)
            {
                var (m, _) = await ReceiveAsync(relay);
                replies[m.TransactionId] = m;
            }
        });
        for (var i = 0; i < clients; i++)
        {
            var discover = Relayed("udhcpc-discover.bin", "127.1.0.1", xid: (uint)i, macLast: (byte)i);
            discover.Options.Set(DhcpOptionCode.ClientIdentifier, [1, 0x0a, 0xc6, 0x92, (byte)(i >> 8), 0x77, (byte)i, 0x01]);
            await SendAsync(relay, discover, s.ServerEndPoint);
        }

        await receiving;

        Assert.Equal(clients, replies.Count);
        Assert.All(replies.Values, m => Assert.Equal(DhcpMessageType.Offer, m.Options.MessageType));
        Assert.Equal(clients, replies.Values.Select(m => m.YourIPAddress).Distinct().Count());
    }

    [Fact]
    public async Task Proxy_mode_answers_the_pxe_port_back_to_the_source_and_ignores_other_clients()
    {
        var relayPort = FreeUdpPort();
        var s = await StartAsync(DhcpMode.Proxy, relayPort);
        var relay = Bind("127.0.0.2", relayPort);
        var pxeClient = Bind("127.0.0.3", 0);

        await SendAsync(relay, Relayed("udhcpc-discover.bin", "127.0.0.2"), s.ServerEndPoint);
        await SendAsync(relay, Relayed("ovmf-pxe-discover.bin", "127.0.0.2"), s.ServerEndPoint);
        var (offer, _) = await ReceiveAsync(relay);
        var request = HandlerHarness.Golden("ovmf-pxe-request.bin");
        request.ClientIPAddress = IPAddress.Parse("127.0.0.3");
        await SendAsync(pxeClient, request, s.ProxyEndPoint);
        var (ack, ackFrom) = await ReceiveAsync(pxeClient);

        Assert.Equal(0x6613b4b8u, offer.TransactionId);
        Assert.Equal(IPAddress.Any, offer.YourIPAddress);
        Assert.Equal("ipxe.efi", offer.BootFileName);
        Assert.Equal(DhcpMessageType.Ack, ack.Options.MessageType);
        Assert.Equal("ipxe.efi", ack.Options.BootFileName);
        Assert.Equal(s.Options.ProxyPort, ackFrom.Port);
        Assert.Empty(s.Store.Leases);
    }

    [Fact]
    public async Task Dhcp_is_off_without_interfaces_and_says_so()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new DhcpServerOptions());
        var server = new DhcpServer(options, new DhcpHandler(options, _logs.CreateLogger<DhcpHandler>()), TimeProvider.System, _logs.CreateLogger<DhcpServer>());
        _servers.Add(server);

        await server.StartAsync(CancellationToken.None);

        Assert.Empty(server.Links);
        var off = Assert.Single(_logs.Entries, e => e.Id.Id == 3100);
        Assert.Equal(LogLevel.Information, off.Level);
        Assert.Contains("DHCP is off", off.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_interface_is_logged_and_does_not_stop_the_host()
    {
        var s = await StartAsync(DhcpMode.Proxy, FreeUdpPort(), itf: "nekko-none0");

        Assert.Empty(s.Server.Links);
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3102 && e.Level == LogLevel.Error && e.Message.Contains("nekko-none0", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3101 && e.Message.Contains("not yet available", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Authoritative_without_a_lease_store_refuses_to_start()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new DhcpServerOptions { Interfaces = [new DhcpInterfaceOptions { Name = "lo", Mode = DhcpMode.Authoritative }] });
        using var server = new DhcpServer(options, new DhcpHandler(options, _logs.CreateLogger<DhcpHandler>()), TimeProvider.System, _logs.CreateLogger<DhcpServer>());

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_second_server_on_the_same_interface_and_port_is_an_error_not_a_split()
    {
        var relayPort = FreeUdpPort();
        var first = await StartAsync(DhcpMode.Authoritative, relayPort);
        var options = first.Options;
        var o = Microsoft.Extensions.Options.Options.Create(options);
        var second = new DhcpServer(o, new DhcpHandler(o, _logs.CreateLogger<DhcpHandler>(), first.Store), TimeProvider.System, _logs.CreateLogger<DhcpServer>());
        _servers.Add(second);

        await second.StartAsync(CancellationToken.None);

        Assert.Empty(second.Links);
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3104 && e.Message.Contains(nameof(SocketError.AddressAlreadyInUse), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_built_with_AddDhcpServer_serves_proxy_dhcp_without_a_lease_store()
    {
        var relayPort = FreeUdpPort();
        var serverPort = FreeUdpPort();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Dhcp:Interfaces:0:Name"] = "lo",
            ["Dhcp:ServerPort"] = serverPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dhcp:ProxyPort"] = FreeUdpPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dhcp:RelayAgentPort"] = relayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.AddDhcpServer();
        using var host = builder.Build();
        await host.StartAsync();
        var relay = Bind("127.0.0.2", relayPort);

        await SendAsync(relay, Relayed("ipxe-efi-discover.bin", "127.0.0.2"), new IPEndPoint(IPAddress.Loopback, serverPort));
        var (offer, _) = await ReceiveAsync(relay);
        await host.StopAsync();

        Assert.Equal(DhcpMessageType.Offer, offer.Options.MessageType);
        Assert.Equal(IPAddress.Any, offer.YourIPAddress);
        Assert.Equal("http://127.0.0.1:8080/boot/boot.ipxe", offer.Options.BootFileName);
    }
}
