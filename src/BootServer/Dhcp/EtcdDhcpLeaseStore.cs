using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.Dhcp.Server;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Dhcp;

namespace NekkoMetal.BootServer.Dhcp;

/// <summary>
/// The DHCP handler's lease store, backed by the inventory: machines in the inventory get their IPAM address,
/// others a lease from the subnet's DHCP range, all in etcd and shared by every boot server
/// (<see cref="DhcpLeaseRepository"/> holds the rules; this only translates types).
/// </summary>
public sealed class EtcdDhcpLeaseStore(DhcpLeaseRepository leases) : IDhcpLeaseStore
{
    internal static string ClientKey(LeaseRequest r) =>
        r.ClientId.Length > 0 ? "id:" + Convert.ToHexStringLower(r.ClientId.Span) : "mac:" + Mac(r.Mac);

    internal static string Mac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

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

    private static LeaseGrant Grant(DhcpLeaseAnswer a) => new(
        ToIp(a.Address),
        ToIp(a.Subnet!.Mask),
        a.Subnet.Gateway is { } g ? ToIp(g) : null,
        a.Subnet.Dns.Select(ToIp).ToList(),
        a.Subnet.DomainName,
        a.HostName,
        a.LeaseTime);

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
        return Result(await leases.OfferAsync(ClientKey(request), Mac(request.Mac), ToUint(request.LinkAddress), requested, request.HostName, ct));
    }

    public async ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(address);
        return Result(await leases.RequestAsync(ClientKey(request), Mac(request.Mac), ToUint(request.LinkAddress), ToUint(address), request.HostName, ct));
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
