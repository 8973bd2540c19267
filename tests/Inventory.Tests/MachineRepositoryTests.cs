using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.TestKit;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Machine CRUD against a real etcd, each test under its own key prefix.</summary>
[Collection(EtcdCollection.Name)]
public sealed class MachineRepositoryTests(EtcdFixture etcd) : IAsyncLifetime
{
    private InventoryHarness _inv = null!;

    public async Task InitializeAsync() => _inv = await InventoryHarness.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());

    public async Task DisposeAsync() => await _inv.DisposeAsync();

    private static MachineSpec Spec(string serial, string mac, string? role = null, Dictionary<string, string>? labels = null) =>
        new() { Serial = serial, Macs = [mac], Role = role, Labels = labels };

    [Fact]
    public async Task Register_GivesLowestFreeAddress_AndStoresEverything()
    {
        var a = await _inv.Machines.RegisterAsync(Spec("SN-A", "52:54:00:00:00:01", "worker", new() { ["rack"] = "1" }), "admin", default);
        var b = await _inv.Machines.RegisterAsync(Spec("SN-B", "52-54-00-00-00-02"), "admin", default);

        Assert.Equal(["10.69.0.1"], a.Ipv4);
        Assert.Equal(["10.69.0.2"], b.Ipv4);
        Assert.Equal("default", a.Subnet);
        Assert.Equal(MachineState.Uninitialized, a.State);
        Assert.Equal(["52:54:00:00:00:02"], b.Macs); // normalized
        Assert.True(a.Revision > 0);

        var read = await _inv.Machines.GetAsync("SN-A", default);
        Assert.Equal("worker", read.Role);
        Assert.Equal("1", read.Labels["rack"]);
        Assert.Equal("SN-A", _inv.Cache.OwnerOfMac("52:54:00:00:00:01"));

        var raw = await _inv.Store.GetAsync(_inv.Store.Keys.Address("10.69.0.2"), default);
        Assert.Equal("SN-B", raw.Kvs.Single().Value.ToStringUtf8());
    }

    [Fact]
    public async Task Register_SameSerialTwice_IsConflict_AndChangesNothing()
    {
        await _inv.Machines.RegisterAsync(Spec("SN-1", "52:54:00:00:01:01"), "admin", default);
        var e = await Assert.ThrowsAsync<ConflictException>(() => _inv.Machines.RegisterAsync(Spec("SN-1", "52:54:00:00:01:02"), "admin", default));
        Assert.Contains("already exists", e.Message);
        Assert.Null(_inv.Cache.OwnerOfMac("52:54:00:00:01:02"));
        Assert.Equal(1, _inv.Cache.MachineCount);
    }

    [Fact]
    public async Task Register_MacOfAnotherMachine_IsConflictNamingTheOwner()
    {
        await _inv.Machines.RegisterAsync(Spec("SN-1", "52:54:00:00:02:01"), "admin", default);
        var e = await Assert.ThrowsAsync<ConflictException>(() => _inv.Machines.RegisterAsync(Spec("SN-2", "52:54:00:00:02:01"), "admin", default));
        Assert.Contains("SN-1", e.Message);
        Assert.Null(_inv.Cache.GetMachine("SN-2"));
    }

    [Fact]
    public async Task Register_InvalidFields_ReportsEveryFieldAtOnce()
    {
        var spec = new MachineSpec
        {
            Serial = "bad serial!",
            Macs = ["zz:zz", "01:00:5e:00:00:01"],
            Role = "Worker_1",
            Labels = new Dictionary<string, string> { ["-bad"] = "x", ["ok"] = "bad value!" },
            Rack = -1,
        };
        var e = await Assert.ThrowsAsync<ValidationException>(() => _inv.Machines.RegisterAsync(spec, "admin", default));
        Assert.Equal(
            ["labels.-bad", "labels.ok", "macs[0]", "macs[1]", "rack", "role", "serial"],
            e.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, _inv.Cache.MachineCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("../etc")]
    [InlineData("-x")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task Register_HostileSerials_AreRejected(string serial)
    {
        await Assert.ThrowsAsync<ValidationException>(() => _inv.Machines.RegisterAsync(Spec(serial, "52:54:00:00:03:01"), "admin", default));
        Assert.Equal(0, _inv.Cache.MachineCount);
    }

    [Fact]
    public async Task List_FiltersByRoleStateLabelMacAndSerial()
    {
        await _inv.Machines.RegisterAsync(Spec("W1", "52:54:00:00:04:01", "worker", new() { ["zone"] = "a" }), "admin", default);
        await _inv.Machines.RegisterAsync(Spec("W2", "52:54:00:00:04:02", "worker", new() { ["zone"] = "b" }), "admin", default);
        await _inv.Machines.RegisterAsync(Spec("C1", "52:54:00:00:04:03", "control-plane", new() { ["zone"] = "a" }), "admin", default);
        await _inv.Machines.SetStateAsync("W2", MachineState.Healthy, null, "admin", default);

        Assert.Equal(["W1", "W2"], (await _inv.Machines.ListAsync(new MachineQuery { Role = "worker" }, default)).Select(m => m.Serial));
        Assert.Equal(["W2"], (await _inv.Machines.ListAsync(new MachineQuery { State = MachineState.Healthy }, default)).Select(m => m.Serial));
        Assert.Equal(["C1", "W1"], (await _inv.Machines.ListAsync(new MachineQuery { Labels = new Dictionary<string, string> { ["zone"] = "a" } }, default)).Select(m => m.Serial));
        Assert.Equal(["W1"], (await _inv.Machines.ListAsync(new MachineQuery { Role = "worker", Labels = new Dictionary<string, string> { ["zone"] = "a" } }, default)).Select(m => m.Serial));
        Assert.Equal(["C1"], (await _inv.Machines.ListAsync(new MachineQuery { Mac = "52:54:00:00:04:03" }, default)).Select(m => m.Serial));
        Assert.Equal(["W2"], (await _inv.Machines.ListAsync(new MachineQuery { Serial = "W2" }, default)).Select(m => m.Serial));
        Assert.Empty(await _inv.Machines.ListAsync(new MachineQuery { Serial = "nope" }, default));
    }

    [Fact]
    public async Task Update_MergesLabels_ChangesMacs_AndKeepsTheMacIndexRight()
    {
        await _inv.Machines.RegisterAsync(Spec("U1", "52:54:00:00:05:01", "worker", new() { ["a"] = "1", ["b"] = "2" }), "admin", default);
        var updated = await _inv.Machines.UpdateAsync("U1", new MachinePatch
        {
            Labels = new Dictionary<string, string?> { ["a"] = null, ["c"] = "3" },
            Macs = ["52:54:00:00:05:02"],
            Role = "storage",
        }, "admin", default);

        Assert.Equal(new Dictionary<string, string> { ["b"] = "2", ["c"] = "3" }, updated.Labels);
        Assert.Equal("storage", updated.Role);
        Assert.Null(_inv.Cache.OwnerOfMac("52:54:00:00:05:01"));
        Assert.Equal("U1", _inv.Cache.OwnerOfMac("52:54:00:00:05:02"));
    }

    [Fact]
    public async Task Update_ThatChangesNothing_WritesNothing()
    {
        var m = await _inv.Machines.RegisterAsync(Spec("NOOP", "52:54:00:00:06:09", "worker", new() { ["a"] = "1" }), "admin", default);
        var same = await _inv.Machines.UpdateAsync("NOOP", new MachinePatch { Role = "worker", Labels = new Dictionary<string, string?> { ["a"] = "1" } }, "admin", default);
        Assert.Equal(m.Revision, same.Revision);
    }

    [Fact]
    public async Task Update_WithStaleRevision_IsConflict_AndWritesNothing()
    {
        var m = await _inv.Machines.RegisterAsync(Spec("R1", "52:54:00:00:06:01"), "admin", default);
        await _inv.Machines.UpdateAsync("R1", new MachinePatch { Role = "worker" }, "admin", default);

        var e = await Assert.ThrowsAsync<ConflictException>(() =>
            _inv.Machines.UpdateAsync("R1", new MachinePatch { Role = "storage", Revision = m.Revision }, "admin", default));
        Assert.Contains("changed since revision", e.Message);
        Assert.Equal("worker", (await _inv.Machines.GetAsync("R1", default)).Role);
    }

    [Fact]
    public async Task ConcurrentUpdates_FromTwoServers_LoseNothing()
    {
        await using var other = await InventoryHarness.StartAsync(etcd.Endpoint, _inv.Store.Keys.Prefix);
        await _inv.Machines.RegisterAsync(Spec("CC1", "52:54:00:00:07:01"), "admin", default);
        await other.Cache.WaitForRevisionAsync(_inv.Cache.Revision, TimeSpan.FromSeconds(5), default);

        // 40 label writes from two "boot servers" at once: each CAS loser retries on fresh data.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? _inv : other).Machines.UpdateAsync("CC1",
                new MachinePatch { Labels = new Dictionary<string, string?> { [$"k{i}"] = "v" } }, "admin", default)));

        var raw = await _inv.Store.GetAsync(_inv.Store.Keys.Machine("CC1"), default);
        var stored = Storage.InventoryJson.FromBytes<Machine>(raw.Kvs[0].Value);
        Assert.Equal(40, stored.Labels.Count);
    }

    [Fact]
    public async Task Delete_OnlyRetired_ThenFreesAddressAndMacs()
    {
        var m = await _inv.Machines.RegisterAsync(Spec("D1", "52:54:00:00:08:01"), "admin", default);
        var e = await Assert.ThrowsAsync<ConflictException>(() => _inv.Machines.DeleteAsync("D1", "admin", default));
        Assert.Contains("only retired", e.Message);

        await _inv.Machines.SetStateAsync("D1", MachineState.Retiring, null, "admin", default);
        await _inv.Machines.SetStateAsync("D1", MachineState.Retired, null, "admin", default);
        await _inv.Machines.DeleteAsync("D1", "admin", default);

        await Assert.ThrowsAsync<NotFoundException>(() => _inv.Machines.GetAsync("D1", default));
        Assert.Null(_inv.Cache.OwnerOfMac("52:54:00:00:08:01"));
        var again = await _inv.Machines.RegisterAsync(Spec("D2", "52:54:00:00:08:01"), "admin", default);
        Assert.Equal(m.Ipv4, again.Ipv4); // the address came back to the pool
    }

    [Fact]
    public async Task UnknownMachine_IsNotFound_ForEveryOperation()
    {
        await Assert.ThrowsAsync<NotFoundException>(() => _inv.Machines.GetAsync("ghost", default));
        await Assert.ThrowsAsync<NotFoundException>(() => _inv.Machines.UpdateAsync("ghost", new MachinePatch { Role = "x" }, "admin", default));
        await Assert.ThrowsAsync<NotFoundException>(() => _inv.Machines.SetStateAsync("ghost", MachineState.Healthy, null, "admin", default));
        await Assert.ThrowsAsync<NotFoundException>(() => _inv.Machines.DeleteAsync("ghost", "admin", default));
    }

    [Fact]
    public async Task BulkRegister_ValidatesTheWholeBatchFirst()
    {
        var bad = new[]
        {
            Spec("B1", "52:54:00:00:09:01"),
            Spec("B2", "52:54:00:00:09:01"), // same MAC as B1
            Spec("B1", "52:54:00:00:09:03"), // same serial as B1
        };
        var e = await Assert.ThrowsAsync<ValidationException>(() => _inv.Machines.RegisterManyAsync(bad, "admin", default));
        Assert.Contains("[1].macs", e.Errors.Keys);
        Assert.Contains("[2].serial", e.Errors.Keys);
        Assert.Equal(0, _inv.Cache.MachineCount);

        var ok = await _inv.Machines.RegisterManyAsync(
            Enumerable.Range(0, 20).Select(i => Spec($"BULK{i:D2}", $"52:54:00:00:0a:{i:x2}")).ToList(), "admin", default);
        Assert.Equal(20, ok.Count);
        Assert.Equal(20, ok.SelectMany(m => m.Ipv4).Distinct().Count());
    }

    [Fact]
    public async Task EveryMutation_IsAudited_WithBeforeAndAfter()
    {
        await _inv.Machines.RegisterAsync(Spec("AU1", "52:54:00:00:0b:01"), "alice", default);
        await _inv.Machines.SetStateAsync("AU1", MachineState.Healthy, "burn-in passed", "bob", default);
        await _inv.Machines.UpdateAsync("AU1", new MachinePatch { Role = "worker" }, "carol", default);
        await _inv.Machines.RegisterAsync(Spec("AU2", "52:54:00:00:0b:02"), "alice", default);

        var audit = _inv.Services.GetService(typeof(AuditLog)) as AuditLog;
        var entries = await audit!.QueryAsync(new AuditQuery { Serial = "AU1" }, default);
        Assert.Equal([AuditActions.MachineUpdate, AuditActions.MachineState, AuditActions.MachineCreate], entries.Select(e => e.Action));
        Assert.Equal(["carol", "bob", "alice"], entries.Select(e => e.Actor));
        var state = entries[1];
        Assert.Equal("burn-in passed", state.Reason);
        Assert.Equal("uninitialized", state.Before!.Value.GetProperty("state").GetString());
        Assert.Equal("healthy", state.After!.Value.GetProperty("state").GetString());
        Assert.Null(entries[2].Before);

        var all = await audit.QueryAsync(new AuditQuery(), default);
        Assert.Equal(4, all.Count);
        var sinceState = await audit.QueryAsync(new AuditQuery { Since = state.Time }, default);
        Assert.Equal(3, sinceState.Count);
        var untilState = await audit.QueryAsync(new AuditQuery { Until = state.Time }, default);
        Assert.Equal(2, untilState.Count);
        Assert.Single(await audit.QueryAsync(new AuditQuery { Limit = 1 }, default));
    }
}
