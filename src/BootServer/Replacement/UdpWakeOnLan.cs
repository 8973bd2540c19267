using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Replacement;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Replacement;

/// <summary>
/// Wake-on-LAN over UDP broadcast from the leading boot server: the magic packet goes to <c>--wol-broadcast</c> when
/// set, else to the directed broadcast of the spare's IPAM subnet (so the kernel sends it out of the interface on that
/// segment as a link-layer broadcast), else to 255.255.255.255. The leader must have an address on the spares'
/// segment: routers do not forward directed broadcasts by default.
/// </summary>
public sealed class UdpWakeOnLan(IOptions<ReplacementOptions> options, InventoryCache cache) : IWakeOnLan
{
    public async Task<string> WakeAsync(Machine machine, string mac, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var target = new IPEndPoint(BroadcastFor(machine), options.Value.WolPort);
        var packet = MagicPacket.Build(mac);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { EnableBroadcast = true };
        await socket.SendToAsync(packet, SocketFlags.None, target, ct);
        return target.ToString();
    }

    /// <summary>The broadcast address magic packets for <paramref name="machine"/> go to.</summary>
    public IPAddress BroadcastFor(Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (options.Value.WolBroadcast is { Length: > 0 } configured)
        {
            return IPAddress.Parse(configured);
        }

        var subnet = cache.Subnets.FirstOrDefault(s => s.Name == machine.Subnet)
            ?? machine.Ipv4.Select(a => IPAddress.TryParse(a, out var ip) ? ToUInt(ip) : (uint?)null)
                .Where(a => a is not null)
                .Select(a => cache.Subnets.FirstOrDefault(s => s.Contains(a!.Value)))
                .FirstOrDefault(s => s is not null);
        return subnet is null ? IPAddress.Broadcast : FromUInt(subnet.Network | ~subnet.Mask);
    }

    private static uint ToUInt(IPAddress ip) => BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes());

    private static IPAddress FromUInt(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
