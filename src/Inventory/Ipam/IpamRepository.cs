using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Ipam;

/// <summary>The IPAM config in etcd. A change may not strand an address already given to a machine.</summary>
public sealed partial class IpamRepository(InventoryContext ctx, ILogger<IpamRepository> logger)
{
    private readonly ILogger<IpamRepository> _logger = logger;

    public async Task<IpamConfig> GetAsync(CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        return ctx.Cache.Ipam;
    }

    /// <summary>
    /// Replaces the config. With <see cref="IpamConfig.Revision"/> set, only if the stored config is at that revision.
    /// Fails with a conflict when a machine's address would fall outside every subnet.
    /// </summary>
    public async Task<IpamConfig> SetAsync(IpamConfig config, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(config);
        var subnets = IpamValidator.Resolve(config);
        await ctx.EnsureReadyAsync(ct);
        for (var attempt = 0; ; attempt++)
        {
            var current = ctx.Cache.Ipam;
            if (config.Revision != 0 && config.Revision != current.Revision)
            {
                throw new ConflictException($"the IPAM config changed since revision {config.Revision} (now {current.Revision}); read it again and retry");
            }

            var snapshot = ctx.Cache.Revision;
            var stranded = ctx.Cache.Machines
                .SelectMany(m => m.Ipv4.Select(ip => (m.Serial, Ip: ip)))
                .Where(x => !Ipv4.TryParse(x.Ip, out var a) || !subnets.Any(s => s.Contains(a)))
                .Take(11)
                .ToList();
            if (stranded.Count > 0)
            {
                throw new ConflictException("the new config leaves machines' addresses outside every subnet: " +
                    string.Join(", ", stranded.Take(10).Select(x => $"{x.Serial} ({x.Ip})")) + (stranded.Count > 10 ? ", …" : ""));
            }

            var stored = new IpamConfig { Subnets = config.Subnets };
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(ctx.Keys.IpamConfig, current.Revision));

            // No address handed out since the snapshot the check above looked at.
            txn.Compare.Add(new Compare
            {
                Key = ByteString.CopyFromUtf8(ctx.Keys.AddressesPrefix),
                RangeEnd = ByteString.CopyFromUtf8(EtcdKeys.RangeEnd(ctx.Keys.AddressesPrefix)),
                Target = Compare.Types.CompareTarget.Mod,
                Result = Compare.Types.CompareResult.Less,
                ModRevision = snapshot + 1,
            });
            txn.Success.Add(Txn.Put(ctx.Keys.IpamConfig, InventoryJson.ToBytes(stored)));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, AuditActions.IpamUpdate, null, current with { Revision = 0 }, stored)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                await ctx.ReadBackAsync(response.Header.Revision, ct);
                LogUpdated(subnets.Count, actor);
                return stored with { Revision = response.Header.Revision };
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException("the IPAM config or the address table kept changing; try again");
            }

            await ctx.ReadBackAsync(response.Header.Revision, ct);
        }
    }

    [LoggerMessage(EventIds.IpamUpdated, LogLevel.Information, "IPAM config set to {Subnets} subnet(s) by {Actor}")]
    private partial void LogUpdated(int subnets, string actor);
}
