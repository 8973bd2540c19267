using System.Text.Json.Serialization;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Dhcp;

/// <summary>The value of <c>dhcp/blocks/{first}-{last}</c>: which boot server makes offers from that block.</summary>
public sealed record DhcpAddressBlockClaim
{
    public required string Server { get; init; }

    public required string Subnet { get; init; }

    [JsonPropertyName("host")]
    public string? HostName { get; init; }

    public DateTimeOffset ClaimedAt { get; init; }
}

/// <summary>
/// Splits each DHCP range into blocks and lets each boot server claim blocks to make its offers from, so that
/// boot servers on one segment, which keep their offers in memory, do not offer one address to two clients.
/// A claim is a key created only if absent and attached to this server's etcd lease (kept alive here): when the
/// server stops or dies, its claims vanish and other servers may take the blocks over. Claims only steer offers;
/// what makes an address a client's is its lease key, always written with a compare-and-swap.
/// </summary>
internal sealed partial class DhcpAddressBlocks : IAsyncDisposable
{
    /// <summary>TTL of the etcd lease the claims are attached to; it is renewed every third of it.</summary>
    public static readonly TimeSpan ClaimTtl = TimeSpan.FromSeconds(30);

    private readonly InventoryContext _ctx;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _claimGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private long _leaseId;
    private Task? _keepAlive;

    public DhcpAddressBlocks(InventoryContext ctx, ILogger logger)
    {
        _ctx = ctx;
        _logger = logger;
    }

    private long _claimRounds;

    /// <summary>Claim rounds that went to etcd (each reads the claims and tries blocks): for tests.</summary>
    public long ClaimRounds => Interlocked.Read(ref _claimRounds);

    /// <summary>This process's identity in claims.</summary>
    public string ServerId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Raised (under no lock) when the etcd lease was lost and with it every claim.</summary>
    public event Action? ClaimsLost;

    /// <summary>Addresses per block for a DHCP range of <paramref name="rangeSize"/>: a power of two, 4 to 256, about a sixteenth of the range.</summary>
    public static uint BlockSize(uint rangeSize)
    {
        var size = 4u;
        while (size < 256 && size * 2 <= rangeSize / 16)
        {
            size *= 2;
        }

        return size;
    }

    /// <summary>The blocks of <paramref name="subnet"/>'s DHCP range, in address order (the last may be shorter).</summary>
    public static IEnumerable<(uint First, uint Last)> BlocksOf(ResolvedSubnet subnet)
    {
        if (subnet.DhcpStart is not { } start || subnet.DhcpEnd is not { } end || end < start)
        {
            yield break;
        }

        var size = BlockSize(end - start + 1);
        for (ulong first = start; first <= end; first += size)
        {
            yield return ((uint)first, (uint)Math.Min(first + size - 1, end));
        }
    }

    /// <summary>
    /// Claims the first block of <paramref name="subnet"/> that nobody holds and for which <paramref name="usable"/>
    /// says yes. Returns it, or null when every block is claimed (or etcd refused).
    /// </summary>
    public async Task<(uint First, uint Last)?> ClaimAsync(ResolvedSubnet subnet, Func<uint, uint, bool> usable, Func<bool> stillNeeded, CancellationToken ct)
    {
        await _claimGate.WaitAsync(ct);
        try
        {
            if (!stillNeeded())
            {
                return null; // another offer claimed one while this one waited
            }

            Interlocked.Increment(ref _claimRounds);
            var leaseId = await EnsureLeaseAsync(ct);
            var claimed = (await _ctx.Store.GetPrefixAsync(_ctx.Keys.DhcpBlocksPrefix, ct)).Kvs
                .ToDictionary(kv => kv.Key.ToStringUtf8(), kv => InventoryJson.FromBytes<DhcpAddressBlockClaim>(kv.Value).Server, StringComparer.Ordinal);
            foreach (var (first, last) in BlocksOf(subnet))
            {
                var key = _ctx.Keys.DhcpBlock(Ipv4.Format(first), Ipv4.Format(last));
                if (claimed.TryGetValue(key, out var owner) && owner != ServerId || !usable(first, last))
                {
                    continue;
                }

                if (owner == ServerId)
                {
                    return (first, last); // ours already (claimed before the IPAM config changed): take it up again
                }

                var claim = new DhcpAddressBlockClaim { Server = ServerId, Subnet = subnet.Name, HostName = Environment.MachineName, ClaimedAt = _ctx.Time.GetUtcNow() };
                var put = Txn.Put(key, InventoryJson.ToBytes(claim));
                put.RequestPut.Lease = leaseId;
                var txn = new TxnRequest();
                txn.Compare.Add(Txn.Absent(key));
                txn.Success.Add(put);
                if ((await _ctx.Store.TxnAsync(txn, ct)).Succeeded)
                {
                    LogClaimed(subnet.Name, Ipv4.Format(first), Ipv4.Format(last));
                    return (first, last);
                }
            }

            return null;
        }
        catch (StoreUnavailableException e)
        {
            LogClaimFailed(subnet.Name, e.Message);
            return null;
        }
        finally
        {
            _claimGate.Release();
        }
    }

    private async Task<long> EnsureLeaseAsync(CancellationToken ct)
    {
        if (Interlocked.Read(ref _leaseId) is var id and not 0)
        {
            return id;
        }

        id = await _ctx.Store.GrantLeaseAsync((long)ClaimTtl.TotalSeconds, ct);
        Interlocked.Exchange(ref _leaseId, id);
        _keepAlive ??= Task.Run(() => KeepAliveAsync(_stop.Token), CancellationToken.None);
        return id;
    }

    private async Task KeepAliveAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(ClaimTtl / 3, _ctx.Time, ct);
                var id = Interlocked.Read(ref _leaseId);
                if (id == 0)
                {
                    continue;
                }

                long ttl;
                try
                {
                    ttl = await _ctx.Store.KeepAliveOnceAsync(id, ct);
                }
                catch (StoreUnavailableException e)
                {
                    LogKeepAliveFailed(e.Message);
                    continue;
                }

                if (ttl <= 0 && Interlocked.CompareExchange(ref _leaseId, 0, id) == id)
                {
                    LogClaimsLost();
                    ClaimsLost?.Invoke();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_keepAlive is { } loop)
        {
            await loop;
        }

        if (Interlocked.Exchange(ref _leaseId, 0) is var id and not 0)
        {
            // Give the blocks back at once rather than after the TTL: a restarted server claims fresh ones.
            try
            {
                await _ctx.Store.RevokeLeaseAsync(id, CancellationToken.None);
            }
            catch (StoreUnavailableException)
            {
            }
        }

        _stop.Dispose();
        _claimGate.Dispose();
    }

    [LoggerMessage(EventIds.DhcpBlockClaimed, LogLevel.Debug, "Claimed DHCP block {First}-{Last} of subnet {Subnet} for this boot server's offers")]
    private partial void LogClaimed(string subnet, string first, string last);

    [LoggerMessage(EventIds.DhcpBlocksLost, LogLevel.Warning, "The etcd lease holding this boot server's DHCP block claims expired; blocks are claimed again as offers need them")]
    private partial void LogClaimsLost();

    [LoggerMessage(EventIds.DhcpKeepAliveFailed, LogLevel.Warning, "Could not renew the etcd lease of this boot server's DHCP block claims: {Reason}")]
    private partial void LogKeepAliveFailed(string reason);

    [LoggerMessage(EventIds.DhcpBlockClaimFailed, LogLevel.Warning, "Could not claim a DHCP block of subnet {Subnet}: {Reason}; offering from the whole range")]
    private partial void LogClaimFailed(string subnet, string reason);
}
