using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Dhcp;
using NekkoMetal.Inventory.Ipam;

namespace NekkoMetal.BootServer.Dhcp;

/// <summary>
/// The DHCP handler's lease store, backed by the inventory: machines in the inventory get their IPAM address,
/// others a lease from the subnet's DHCP range, all in etcd and shared by every boot server
/// (<see cref="DhcpLeaseRepository"/> holds the rules; this only translates types).
/// </summary>
public sealed class EtcdDhcpLeaseStore(DhcpLeaseRepository leases) : IDhcpLeaseStore
{
    /// <summary>
    /// Who a lease belongs to: option 61 when present (RFC 2131 §4.2), else the MAC. A client id of hardware type 1
    /// (Ethernet) followed by the client's own MAC names the same client as the MAC alone: firmware often sends no
    /// option 61 (OVMF, PXE ROMs) and the iPXE it loads sends exactly that, which would otherwise hold a second address.
    /// </summary>
    internal static string ClientKey(LeaseRequest r) => ClientKey(r, Mac(r.Mac));

    private static string ClientKey(LeaseRequest r, string macText)
    {
        var id = r.ClientId.Span;
        var mac = r.Mac.GetAddressBytes();
        return id.Length == 0 || (id.Length == mac.Length + 1 && id[0] == 1 && id[1..].SequenceEqual(mac))
            ? "mac:" + macText
            : "id:" + Convert.ToHexStringLower(id);
    }

    private const string HexDigits = "0123456789abcdef";

    internal static string Mac(PhysicalAddress mac)
    {
        var bytes = mac.GetAddressBytes();
        return bytes.Length == 0 ? "" : string.Create((bytes.Length * 3) - 1, bytes, static (chars, b) =>
        {
            for (var i = 0; i < b.Length; i++)
            {
                if (i > 0)
                {
                    chars[(i * 3) - 1] = ':';
                }

                chars[i * 3] = HexDigits[b[i] >> 4];
                chars[(i * 3) + 1] = HexDigits[b[i] & 0xF];
            }
        });
    }

    private static uint ToUint(IPAddress a)
    {
        Span<byte> b = stackalloc byte[4];
        return a.TryWriteBytes(b, out var n) && n == 4 ? BinaryPrimitives.ReadUInt32BigEndian(b) : 0;
    }

    private static IPAddress ToIp(uint a)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, a);
        return new IPAddress(b);
    }

    /// <summary>The per-subnet part of a grant, built once per subnet object (a new IPAM config makes new ones).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ResolvedSubnet, SubnetConfig> SubnetConfigs = [];

    private sealed record SubnetConfig(IPAddress Mask, IPAddress? Router, IReadOnlyList<IPAddress> Dns);

    private static LeaseGrant Grant(DhcpLeaseAnswer a)
    {
        var subnet = a.Subnet!;
        var config = SubnetConfigs.GetValue(subnet, static s => new SubnetConfig(ToIp(s.Mask), s.Gateway is { } g ? ToIp(g) : null, s.Dns.Select(ToIp).ToList()));
        return new LeaseGrant(ToIp(a.Address), config.Mask, config.Router, config.Dns, subnet.DomainName, a.HostName, a.LeaseTime);
    }

    private static LeaseResult Result(DhcpLeaseAnswer a) => a.Outcome switch
    {
        DhcpLeaseOutcome.Granted => LeaseResult.Granted(Grant(a)),
        DhcpLeaseOutcome.Nak => LeaseResult.Nak(a.Reason ?? "refused"),
        DhcpLeaseOutcome.NotOurs => LeaseResult.NotOurs(a.Reason ?? "not ours"),
        _ => LeaseResult.NoAddress(a.Reason ?? "no address"),
    };

    public async ValueTask<LeaseResult> OfferAsync(LeaseRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requested = request.RequestedAddress is { } r ? ToUint(r) : (uint?)null;
        var mac = Mac(request.Mac);
        return Result(await leases.OfferAsync(ClientKey(request, mac), mac, ToUint(request.LinkAddress), requested, request.HostName, ct));
    }

    public async ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(address);
        var mac = Mac(request.Mac);
        return Result(await leases.RequestAsync(ClientKey(request, mac), mac, ToUint(request.LinkAddress), ToUint(address), request.HostName, ct));
    }

    public void WithdrawOffer(LeaseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        leases.WithdrawOffer(ClientKey(request));
    }

    public async ValueTask ReleaseAsync(LeaseRequest request, IPAddress address, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(address);
        await leases.ReleaseAsync(ClientKey(request), ToUint(address), ct);
    }

    public async ValueTask DeclineAsync(LeaseRequest request, IPAddress address, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(address);
        await leases.DeclineAsync(ClientKey(request), ToUint(address), ct);
    }

    public ValueTask<LeaseGrant?> InformAsync(LeaseRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var client = request.RequestedAddress is { } a ? ToUint(a) : 0;
        var answer = leases.Inform(ToUint(request.LinkAddress), client);
        return ValueTask.FromResult(answer.Outcome == DhcpLeaseOutcome.Granted ? Grant(answer) : null);
    }
}

/// <summary>Feeds DHCP events into the per-machine boot progress.</summary>
public sealed class BootProgressSink(BootProgressRecorder recorder) : IBootProgressSink
{
    public void DhcpSeen(PhysicalAddress mac, Guid? uuid, string stage)
    {
        ArgumentNullException.ThrowIfNull(mac);
        recorder.Record(EtcdDhcpLeaseStore.Mac(mac), stage);
    }
}
