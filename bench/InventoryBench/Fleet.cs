using System.Globalization;

namespace NekkoMetal.Bench;

/// <summary>One machine of the generated fleet, as registered through the API.</summary>
internal sealed record FleetMachine(string Serial, string Mac, string Role, int Rack);

/// <summary>
/// A deterministic fleet: serials SN00001…, MACs 52:54:00:xx:xx:xx, label rack = i mod 100 and, independently,
/// role by (i div 100) mod 10: worker 70 %, storage 20 %, control-plane 10 % — so with 10,000 machines every rack
/// holds exactly 70 workers and every filtered list (and so every matching etcd range) returns 70 machines.
/// </summary>
internal sealed class Fleet
{
    public const int Racks = 100;
    public const string FilterRole = "worker";

    private Fleet(IReadOnlyList<FleetMachine> machines)
    {
        Machines = machines;
        var workers = new int[Racks];
        foreach (var m in machines.Where(m => m.Role == FilterRole))
        {
            workers[m.Rack]++;
        }

        WorkersPerRack = workers;
    }

    /// <summary>Sorted by serial, which is also etcd's key order.</summary>
    public IReadOnlyList<FleetMachine> Machines { get; }

    /// <summary>How many machines the filtered list role=worker, label rack=R must return.</summary>
    public IReadOnlyList<int> WorkersPerRack { get; }

    public static Fleet Generate(int count)
    {
        var machines = new List<FleetMachine>(count);
        for (var i = 1; i <= count; i++)
        {
            var draw = i / Racks % 10;
            var role = draw < 7 ? "worker" : draw < 9 ? "storage" : "control-plane";
            var mac = string.Create(CultureInfo.InvariantCulture, $"52:54:00:{(i >> 16) & 0xff:x2}:{(i >> 8) & 0xff:x2}:{i & 0xff:x2}");
            machines.Add(new FleetMachine(string.Create(CultureInfo.InvariantCulture, $"SN{i:D5}"), mac, role, i % Racks));
        }

        machines.Sort((a, b) => string.CompareOrdinal(a.Serial, b.Serial));
        return new Fleet(machines);
    }

    /// <summary>One registration request body: the machines as the API's MachineSpec objects.</summary>
    public static object[] Specs(IEnumerable<FleetMachine> batch) =>
        batch.Select(m => (object)new
        {
            serial = m.Serial,
            macs = new[] { m.Mac },
            role = m.Role,
            labels = new Dictionary<string, string> { ["rack"] = m.Rack.ToString(CultureInfo.InvariantCulture) },
        }).ToArray();
}
