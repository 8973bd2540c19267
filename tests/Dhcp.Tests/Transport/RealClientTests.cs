using System.Net;
using System.Net.Sockets;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Dhcp.Tests.Server;
using NekkoMetal.Dhcp.Transport;

namespace NekkoMetal.Dhcp.Tests.Transport;

/// <summary>A <see cref="FactAttribute"/> that skips, saying why, when network namespaces or a client binary are not available.</summary>
public sealed class NamespaceFactAttribute : FactAttribute
{
    public NamespaceFactAttribute(params string[] binaries)
    {
        // In CI everything is installed (scripts/test.sh): there a missing piece must fail the test, not skip it.
        if (TestNetwork.Unavailable(binaries) is { } why && Environment.GetEnvironmentVariable("CI") is null)
        {
            Skip = why;
        }
    }
}

/// <summary>
/// Real DHCP clients — busybox <c>udhcpc</c> and ISC <c>dhclient</c> — against the in-process server on the real
/// broadcast path: server in one network namespace of our own, client in another, a veth pair between them (see
/// <see cref="TestNetwork"/>). Standard ports 67/68 inside the namespaces. Needs root, iproute2, busybox and
/// isc-dhcp-client.
/// </summary>
public sealed class RealClientTests : IDisposable
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);
    private readonly TestLoggerFactory _logs = new();
    private readonly List<IDisposable> _cleanup = [];
    private readonly List<DhcpServer> _servers = [];

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            server.Dispose();
        }

        foreach (var item in Enumerable.Reverse(_cleanup))
        {
            item.Dispose();
        }
    }

    private TestNetwork Network()
    {
        var network = TestNetwork.Create();
        _cleanup.Add(network);
        return network;
    }

    private (DhcpServer Server, InMemoryLeaseStore Store) StartServer(TestNetwork net, DhcpMode mode, bool routerAdvertisements = false)
    {
        var options = new DhcpServerOptions
        {
            Interfaces = [new DhcpInterfaceOptions { Name = TestNetwork.ServerInterface, Mode = mode, RouterAdvertisements = routerAdvertisements }],
            LeaseTime = TimeSpan.FromSeconds(600),
            RouterAdvertisementInterval = TimeSpan.FromSeconds(4),
        };
        var store = new InMemoryLeaseStore(
            TimeProvider.System, options,
            InMemorySubnet.Parse($"{net.Subnet}.0/24", $"{net.Subnet}.100", $"{net.Subnet}.150", net.ServerAddress, net.ServerAddress, "lab.example"));
        var o = Microsoft.Extensions.Options.Options.Create(options);
        var server = new DhcpServer(o, new DhcpHandler(o, _logs.CreateLogger<DhcpHandler>(), store), TimeProvider.System, _logs.CreateLogger<DhcpServer>());
        _servers.Add(server);

        // The sockets are opened by StartAsync, on this thread, inside the server's namespace.
        net.InServerNamespace(() =>
        {
            server.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            return 0;
        });
        Assert.Equal(IPAddress.Parse(net.ServerAddress), Assert.Single(server.Links).Address);
        return (server, store);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(ClientTimeout);
        while (!condition())
        {
            await Task.Delay(50, timeout.Token).ContinueWith(t => t.IsCanceled ? throw new TimeoutException(what) : 0, TaskScheduler.Default);
        }
    }

    /// <summary>udhcpc hook: logs each event with the variables it got, and configures the address like a real script.</summary>
    private static string UdhcpcScript(TestNetwork net) => net.WriteScript("udhcpc.sh", $$"""
        echo "$1 ip=$ip mask=$mask subnet=$subnet router=$router dns=$dns domain=$domain lease=$lease serverid=$serverid" >> {{net.Directory}}/udhcpc.log
        case "$1" in
          bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface" ;;
          deconfig) ip addr flush dev "$interface" ;;
        esac
        exit 0

        """);

    private static string DhclientScript(TestNetwork net) => net.WriteScript("dhclient.sh", $$"""
        echo "$reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers dns=$new_domain_name_servers" >> {{net.Directory}}/dhclient.log
        case "$reason" in
          BOUND|RENEW|REBIND|REBOOT) ip addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
          EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "$interface" ;;
        esac
        exit 0

        """);

    private static string Log(TestNetwork net, string name) => File.Exists(Path.Combine(net.Directory, name)) ? File.ReadAllText(Path.Combine(net.Directory, name)) : "";

    [NamespaceFact("busybox")]
    public async Task Udhcpc_gets_a_lease_with_our_options()
    {
        var net = Network();
        var (_, store) = StartServer(net, DhcpMode.Authoritative);
        var script = UdhcpcScript(net);

        var result = await net.RunInClientAsync(ClientTimeout, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "2", "-i", TestNetwork.ClientInterface, "-s", script, "-x", "hostname:nekko-test");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"lease of {net.Subnet}.100 obtained from {net.ServerAddress}, lease time 600", result.Output, StringComparison.Ordinal);
        Assert.Contains($"bound ip={net.Subnet}.100 mask=24 subnet=255.255.255.0 router={net.ServerAddress} dns={net.ServerAddress} domain=lab.example lease=600 serverid={net.ServerAddress}", Log(net, "udhcpc.log"), StringComparison.Ordinal);
        Assert.Equal(InMemoryLeaseStore.LeaseState.Bound, Assert.Single(store.Leases).State);
    }

    [NamespaceFact("busybox")]
    public async Task Udhcpc_renews_by_unicast_and_releases()
    {
        var net = Network();
        var (_, store) = StartServer(net, DhcpMode.Authoritative);
        var script = UdhcpcScript(net);
        using var udhcpc = net.StartInClient("busybox", "udhcpc", "-f", "-R", "-t", "5", "-T", "2", "-i", TestNetwork.ClientInterface, "-s", script);

        await WaitForAsync(() => Log(net, "udhcpc.log").Contains("bound ", StringComparison.Ordinal), "udhcpc bound");
        var bound = Assert.Single(store.Leases);
        await Task.Delay(1100);
        TestNetwork.Signal(udhcpc, TestNetwork.SigUsr1);
        await WaitForAsync(() => Log(net, "udhcpc.log").Contains("renew ", StringComparison.Ordinal), "udhcpc renew:\n" + net.BackgroundOutput);
        var renewed = Assert.Single(store.Leases);
        TestNetwork.Signal(udhcpc, TestNetwork.SigTerm);
        await udhcpc.WaitForExitAsync();
        await WaitForAsync(() => store.Leases.Single().State == InMemoryLeaseStore.LeaseState.Released, "release in the store:\n" + net.BackgroundOutput);

        Assert.Equal(IPAddress.Parse($"{net.Subnet}.100"), bound.Address);
        Assert.True(renewed.Expires > bound.Expires, $"{renewed.Expires:O} > {bound.Expires:O}");
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3145);
        Assert.Contains($"sending renew to server {net.ServerAddress}", net.BackgroundOutput, StringComparison.Ordinal);
        Assert.Contains("unicasting a release", net.BackgroundOutput, StringComparison.Ordinal);
    }

    [NamespaceFact("dhclient")]
    public async Task Dhclient_gets_reboots_into_and_releases_a_lease()
    {
        var net = Network();
        var (_, store) = StartServer(net, DhcpMode.Authoritative);
        var script = DhclientScript(net);
        string[] common = ["-4", "-v", "-sf", script, "-lf", Path.Combine(net.Directory, "dhclient.leases"), "-pf", Path.Combine(net.Directory, "dhclient.pid")];

        // Get: DISCOVER/OFFER/REQUEST/ACK; dhclient stays as a daemon.
        var get = await net.RunInClientAsync(ClientTimeout, ["dhclient", "-1", .. common, TestNetwork.ClientInterface]);
        Assert.True(get.ExitCode == 0, get.Output);
        Assert.Contains($"bound to {net.Subnet}.100", get.Output, StringComparison.Ordinal);

        // Stop without release, start again: INIT-REBOOT for the address in the lease file, acked without a DISCOVER.
        var stop = await net.RunInClientAsync(ClientTimeout, ["dhclient", "-x", .. common, TestNetwork.ClientInterface]);
        Assert.True(stop.ExitCode == 0, stop.Output);
        var reboot = await net.RunInClientAsync(ClientTimeout, ["dhclient", "-1", .. common, TestNetwork.ClientInterface]);
        Assert.True(reboot.ExitCode == 0, reboot.Output);
        Assert.Contains($"DHCPREQUEST for {net.Subnet}.100", reboot.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("DHCPDISCOVER", reboot.Output, StringComparison.Ordinal);
        Assert.Contains("REBOOT ip=" + net.Subnet + ".100 mask=255.255.255.0", Log(net, "dhclient.log"), StringComparison.Ordinal);

        // Release: stops the daemon and sends DHCPRELEASE.
        var release = await net.RunInClientAsync(ClientTimeout, ["dhclient", "-r", .. common, TestNetwork.ClientInterface]);
        Assert.True(release.ExitCode == 0, release.Output);
        Assert.Contains("DHCPRELEASE", release.Output, StringComparison.Ordinal);
        await WaitForAsync(() => store.Leases.Single().State == InMemoryLeaseStore.LeaseState.Released, "release in the store");
    }

    [NamespaceFact("busybox")]
    public async Task Proxy_mode_stays_silent_to_a_real_client_that_is_not_booting()
    {
        var net = Network();
        StartServer(net, DhcpMode.Proxy);

        var result = await net.RunInClientAsync(ClientTimeout, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "2", "-T", "1", "-i", TestNetwork.ClientInterface, "-s", "/bin/true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no lease", result.Output, StringComparison.Ordinal);
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3148);
    }

    [NamespaceFact]
    public async Task Proxy_offer_reaches_a_broadcasting_pxe_client_over_the_link()
    {
        var net = Network();
        StartServer(net, DhcpMode.Proxy);

        // A client socket on port 68 in the client namespace, as PXE firmware has before it has an address.
        using var client = net.InClientNamespace(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            DhcpSockets.BindToDevice(socket, TestNetwork.ClientInterface);
            socket.EnableBroadcast = true;
            socket.Bind(new IPEndPoint(IPAddress.Any, 68));
            return socket;
        });
        var discover = HandlerHarness.Golden("ovmf-pxe-discover.bin");
        await client.SendToAsync(TestPackets.Encode(discover), SocketFlags.None, new IPEndPoint(IPAddress.Broadcast, 67));
        var buffer = new byte[1500];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var received = await client.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var offer = TestPackets.Parse(buffer[..received.ReceivedBytes]);

        Assert.Equal(new IPEndPoint(IPAddress.Parse(net.ServerAddress), 67), received.RemoteEndPoint);
        Assert.Equal(DhcpMessageType.Offer, offer.Options.MessageType);
        Assert.Equal(discover.TransactionId, offer.TransactionId);
        Assert.Equal(IPAddress.Any, offer.YourIPAddress);
        Assert.Equal("ipxe.efi", offer.BootFileName);
        Assert.Equal(IPAddress.Parse(net.ServerAddress), offer.ServerIPAddress);
    }

    [NamespaceFact]
    public async Task Router_advertisements_with_lifetime_0_are_sent_and_answer_solicitations()
    {
        var net = Network();
        StartServer(net, DhcpMode.Proxy, routerAdvertisements: true);
        using var icmp = net.InClientNamespace(() =>
        {
            var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
            DhcpSockets.BindToDevice(socket, TestNetwork.ClientInterface);
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255);
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            return socket;
        });
        var clientIndex = net.InClientNamespace(() => System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Single(n => n.Name == TestNetwork.ClientInterface).GetIPProperties().UnicastAddresses
            .First(u => u.Address.IsIPv6LinkLocal).Address.ScopeId);

        async Task<(byte[] Message, IPEndPoint From)> ReceiveAdvertisementAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var buffer = new byte[1500];
            while (true)
            {
                var r = await icmp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), timeout.Token);
                if (r.ReceivedBytes >= 16 && buffer[0] == 134)
                {
                    return (buffer[..r.ReceivedBytes], (IPEndPoint)r.RemoteEndPoint);
                }
            }
        }

        // Unsolicited, to ff02::1 (the first at start, then every few seconds).
        var (periodic, from) = await ReceiveAdvertisementAsync(TimeSpan.FromSeconds(10));

        // A router solicitation (type 133) to ff02::2 is answered at once (the next periodic one is 4 s away).
        var started = System.Diagnostics.Stopwatch.StartNew();
        await icmp.SendToAsync(new byte[] { 133, 0, 0, 0, 0, 0, 0, 0 }, SocketFlags.None, new IPEndPoint(new IPAddress(IPAddress.Parse("ff02::2").GetAddressBytes(), clientIndex), 0));
        var (answer, _) = await ReceiveAdvertisementAsync(TimeSpan.FromSeconds(2));

        Assert.True(from.Address.IsIPv6LinkLocal, from.ToString());
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3182);
        Assert.Contains(_logs.Entries, e => e.Id.Id == 3180);
        Assert.Equal(0, (periodic[6] << 8) | periodic[7]);
        Assert.Equal(0, periodic[5] & 0xC0);
        Assert.Equal(0, (answer[6] << 8) | answer[7]);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1.5), started.Elapsed.ToString());
        var serverMac = net.InServerNamespace(() => System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Single(n => n.Name == TestNetwork.ServerInterface).GetPhysicalAddress().GetAddressBytes());
        Assert.Equal([1, 1, .. serverMac], periodic[16..24]);
    }
}
