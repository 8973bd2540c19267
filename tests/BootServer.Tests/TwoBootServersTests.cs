using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>Two boot servers on one etcd register 1,000 machines between them at once.</summary>
[Collection(EtcdCollection.Name)]
public sealed class TwoBootServersTests(EtcdFixture etcd)
{
    [Fact]
    public async Task ThousandConcurrentRegistrations_NoDuplicateAddress_NoLostMachine()
    {
        var prefix = EtcdFixture.NewPrefix();
        await using var a = new BootServerApp(etcd.Endpoint, prefix);
        var token = await a.AdminTokenAsync();
        await using var b = new BootServerApp(etcd.Endpoint, prefix);
        await b.WaitReadyAsync();
        using var clientA = a.Client(token);
        using var clientB = b.Client(token); // the token lives in etcd: valid on every boot server

        var ipam = await clientA.PutAsync("/api/v1/ipam", new StringContent(
            """{"subnets":[{"name":"lab","cidr":"10.90.0.0/22"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ipam.StatusCode);

        // 1,000 single registrations, 500 through each server, 32 in flight at a time.
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var client = i % 2 == 0 ? clientA : clientB;
            var body = $$"""{"serial":"CONC{{i:D4}}","macs":["52:54:00:10:{{i / 256:x2}}:{{i % 256:x2}}"],"role":"worker"}""";
            var r = await client.PostAsync("/api/v1/machines", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            if (r.StatusCode != HttpStatusCode.Created)
            {
                failures.Add($"{i}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
            }
        });
        Assert.Empty(failures);

        // Both servers' caches list all 1,000, each with one distinct address.
        foreach (var client in new[] { clientA, clientB })
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/machines?role=worker");
            Assert.Equal(1000, list.GetArrayLength());
            var addresses = list.EnumerateArray().Select(m => m.GetProperty("ipv4").EnumerateArray().Single().GetString()).ToList();
            Assert.Equal(1000, addresses.Distinct().Count());
        }

        // And etcd itself: 1,000 machine keys, 1,000 address keys, each address naming its machine.
        using var store = new EtcdStore(new Inventory.InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = prefix });
        var machines = await store.GetPrefixAsync(store.Keys.MachinesPrefix, default);
        var addressKeys = await store.RangeAllAsync(store.Keys.AddressesPrefix, 0, default);
        Assert.Equal(1000, machines.Count);
        Assert.Equal(1000, addressKeys.Kvs.Count);
        Assert.Equal(1000, addressKeys.Kvs.Select(kv => kv.Value.ToStringUtf8()).Distinct().Count());
    }
}
