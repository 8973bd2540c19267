using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>
/// Carrier on the node's NICs. Without configured interfaces every NIC that is administratively up and whose link
/// came up at least once since boot counts (a port down administratively — sysfs refuses to read its carrier — or
/// never cabled is not a fault). Some links lost with one still up → warning; all lost, or a required interface
/// missing or down → critical.
/// </summary>
internal sealed class NicLinkCheck(HostRoot host, HealthThresholds thresholds) : IHealthCheck
{
    public const string Name = "nic-link";

    public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken)
    {
        var nics = new FactCollector(host).ReadNics(new Dictionary<string, string>());
        return Task.FromResult<IReadOnlyList<CheckResult>>([Evaluate(nics, thresholds.RequiredInterfaces)]);
    }

    /// <summary>Pure: the NICs read from sysfs and the interfaces that must be up → the verdict.</summary>
    public static CheckResult Evaluate(IReadOnlyList<NicFacts> nics, IList<string> requiredInterfaces)
    {
        ArgumentNullException.ThrowIfNull(nics);
        ArgumentNullException.ThrowIfNull(requiredInterfaces);
        if (requiredInterfaces.Count > 0)
        {
            var problems = new List<string>();
            foreach (var name in requiredInterfaces)
            {
                var nic = nics.FirstOrDefault(n => n.Name == name);
                problems.AddRange(nic switch
                {
                    null => [$"{name} is missing"],
                    { Link: true } => [],
                    { Link: false } => [$"{name} has no carrier"],
                    _ => [$"{name} is administratively down"],
                });
            }

            return problems.Count == 0
                ? CheckResult.Ok(Name, $"link up on {string.Join(", ", requiredInterfaces.Select(n => Describe(nics.First(x => x.Name == n))))}")
                : CheckResult.Critical(Name, string.Join("; ", problems));
        }

        // a port whose link never came up since boot (carrier_up_count 0) is an unused port — a laptop's empty Ethernet
        // socket beside its Wi-Fi, a server's spare port — not a lost link
        var watched = nics.Where(n => n.Link == true || (n.Link == false && n.CarrierUpCount != 0)).ToList();

        if (watched.Count == 0)
        {
            return CheckResult.Unknown(Name, nics.Count == 0 ? "no NIC backed by a device in /sys/class/net" : "no NIC is administratively up with a link since boot");
        }

        var up = watched.Where(n => n.Link == true).ToList();
        var down = watched.Where(n => n.Link != true).Select(n => n.Name).ToList();
        if (up.Count == watched.Count)
        {
            return CheckResult.Ok(Name, $"link up on {string.Join(", ", up.Select(Describe))}");
        }

        return up.Count > 0
            ? CheckResult.Warning(Name, $"no carrier on {string.Join(", ", down)}; up on {string.Join(", ", up.Select(Describe))}")
            : CheckResult.Critical(Name, $"no carrier on any NIC ({string.Join(", ", down)})");
    }

    private static string Describe(NicFacts nic) => nic.SpeedMbps is { } speed ? $"{nic.Name} ({speed} Mb/s)" : nic.Name;
}
