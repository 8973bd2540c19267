using System.Globalization;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Ipam;

namespace NekkoMetal.Inventory.Storage;

/// <summary>
/// Makes sure the data under the prefix is of a schema this build understands. On an empty prefix it writes the
/// schema-version key and the default IPAM config in one transaction (so several boot servers starting at once
/// agree); on a newer schema it refuses to start.
/// </summary>
public sealed partial class SchemaInitializer(EtcdStore store, InventoryOptions options, ILogger<SchemaInitializer> logger)
{
    private readonly ILogger<SchemaInitializer> _logger = logger;

    public async Task EnsureAsync(CancellationToken ct)
    {
        var keys = store.Keys;
        var version = EtcdKeys.SchemaVersion.ToString(CultureInfo.InvariantCulture);
        var defaultIpam = new IpamConfig
        {
            Subnets = [new IpamSubnet { Name = "default", Cidr = options.DefaultSubnet }],
        };
        IpamValidator.Resolve(defaultIpam); // a bad default is a configuration error, found at start

        var txn = new TxnRequest();
        txn.Compare.Add(Txn.Absent(keys.Schema));
        txn.Compare.Add(Txn.Absent(keys.IpamConfig));
        txn.Success.Add(Txn.Put(keys.Schema, version));
        txn.Success.Add(Txn.Put(keys.IpamConfig, InventoryJson.ToBytes(defaultIpam)));
        txn.Failure.Add(Txn.Get(keys.Schema));
        var response = await store.TxnAsync(txn, ct);
        if (response.Succeeded)
        {
            LogCreated(keys.Prefix, EtcdKeys.SchemaVersion, options.DefaultSubnet);
            return;
        }

        var kvs = response.Responses[0].ResponseRange.Kvs;
        if (kvs.Count == 0)
        {
            // an IPAM config exists without a schema key (written by hand?): just mark the schema
            var mark = new TxnRequest();
            mark.Compare.Add(Txn.Absent(keys.Schema));
            mark.Success.Add(Txn.Put(keys.Schema, version));
            await store.TxnAsync(mark, ct);
            return;
        }

        var stored = kvs[0].Value.ToStringUtf8();
        if (!int.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var found))
        {
            throw new InvalidOperationException($"etcd key {keys.Schema} holds '{stored}', not a schema version");
        }

        if (found > EtcdKeys.SchemaVersion)
        {
            throw new InvalidOperationException(
                $"the data under {keys.Prefix} has schema version {found}, newer than this boot server understands ({EtcdKeys.SchemaVersion}); upgrade this boot server");
        }
    }

    [LoggerMessage(EventIds.SchemaCreated, LogLevel.Information, "Initialized an empty inventory under {Prefix}: schema {Version}, default IPAM subnet {Subnet}")]
    private partial void LogCreated(string prefix, int version, string subnet);
}
