using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Facts;

/// <summary>
/// The thin reader for facts: reads /sys, /proc, DMI and /etc/os-release below a <see cref="HostRoot"/> and hands the
/// contents to the pure parsers. Runs <c>ip -j link</c> for permanent addresses when a command runner is given.
/// </summary>
internal sealed class FactCollector(HostRoot host, ICommandRunner? commands = null)
{
    private static readonly TimeSpan IpTimeout = TimeSpan.FromSeconds(5);

    public async Task<NodeFacts> CollectAsync(CancellationToken cancellationToken)
    {
        string? ipLinkJson = null;
        // ip reports the live system's links: only when reading the live system, not a fixture tree
        if (host.Root == "/" && commands?.Find("ip") is { } ip)
        {
            var result = await commands.RunAsync(ip, ["-j", "link", "show"], IpTimeout, cancellationToken);
            ipLinkJson = result.ExitCode == 0 ? result.StandardOutput : null;
        }

        return Collect(ipLinkJson);
    }

    /// <summary>Reads every file and parses it; <paramref name="ipLinkJson"/> is the output of <c>ip -j link show</c>, or null.</summary>
    public NodeFacts Collect(string? ipLinkJson = null)
    {
        var problems = new List<string>();
        const string dmi = "/sys/class/dmi/id";
        var system = DmiParser.Parse(new DmiFiles(
            host.ReadText($"{dmi}/sys_vendor"),
            host.ReadText($"{dmi}/product_name"),
            host.ReadText($"{dmi}/product_serial"),
            host.ReadText($"{dmi}/product_uuid"),
            host.ReadText($"{dmi}/board_vendor"),
            host.ReadText($"{dmi}/board_name"),
            host.ReadText($"{dmi}/bios_vendor"),
            host.ReadText($"{dmi}/bios_version"),
            host.ReadText($"{dmi}/chassis_type")));
        if (!host.Exists(dmi))
        {
            problems.Add("no SMBIOS: /sys/class/dmi/id is missing (firmware without SMBIOS, e.g. a Firecracker VM or a board without DMI)");
        }
        else if (system.Serial is null && system.Uuid is null)
        {
            problems.Add("SMBIOS serial and UUID unreadable (/sys/class/dmi/id/product_serial and product_uuid are root-only)");
        }

        var cpu = CpuInfoParser.Parse(host.ReadText("/proc/cpuinfo"));
        if (cpu is null)
        {
            problems.Add("CPU unknown: /proc/cpuinfo missing or without processor entries");
        }

        var memory = MemInfoParser.Parse(host.ReadText("/proc/meminfo"));
        if (memory is null)
        {
            problems.Add("memory unknown: /proc/meminfo missing or without MemTotal");
        }

        var disks = new List<DiskFacts>();
        foreach (var name in host.List("/sys/block"))
        {
            if (BlockDeviceParser.IsSkippedName(name))
            {
                continue;
            }

            var b = $"/sys/block/{name}";
            var disk = BlockDeviceParser.Parse(new BlockDeviceFiles(
                name,
                host.Exists($"{b}/device"),
                host.ReadText($"{b}/size"),
                host.ReadText($"{b}/queue/rotational"),
                host.ReadText($"{b}/removable"),
                host.ReadText($"{b}/device/vendor"),
                host.ReadText($"{b}/device/model"),
                host.ReadText($"{b}/device/serial"),
                host.ReadText($"{b}/serial"),
                host.ReadBytes($"{b}/device/vpd_pg80")));
            if (disk is not null)
            {
                disks.Add(disk);
            }
        }

        var nics = ReadNics(NetworkInterfaceParser.ParsePermanentAddresses(ipLinkJson));
        if (nics.Count == 0)
        {
            problems.Add("no NIC backed by a device in /sys/class/net");
        }

        var os = OsReleaseParser.Parse(host.ReadText("/etc/os-release") ?? host.ReadText("/usr/lib/os-release"));
        if (os is null)
        {
            problems.Add("OS unknown: neither /etc/os-release nor /usr/lib/os-release is readable");
        }

        var kernel = DmiParser.Clean(host.ReadLine("/proc/sys/kernel/osrelease"));
        if (kernel is null)
        {
            problems.Add("kernel unknown: /proc/sys/kernel/osrelease unreadable");
        }

        return new NodeFacts(system, cpu, memory, disks, nics, IdentityMacs(nics), os, kernel, problems);
    }

    /// <summary>The NICs of /sys/class/net (virtual interfaces left out), with permanent addresses from <c>ip -j link</c> where known.</summary>
    public IReadOnlyList<NicFacts> ReadNics(IReadOnlyDictionary<string, string> permanent)
    {
        ArgumentNullException.ThrowIfNull(permanent);
        var nics = new List<NicFacts>();
        foreach (var name in host.List("/sys/class/net"))
        {
            var n = $"/sys/class/net/{name}";
            var nic = NetworkInterfaceParser.Parse(new NetworkInterfaceFiles(
                name,
                host.Exists($"{n}/device"),
                host.ReadText($"{n}/address"),
                host.ReadText($"{n}/addr_assign_type"),
                host.ReadText($"{n}/carrier"),
                host.ReadText($"{n}/carrier_up_count"),
                host.ReadText($"{n}/operstate"),
                host.ReadText($"{n}/speed"),
                host.ReadText($"{n}/type"),
                host.ReadLinkName($"{n}/device/driver"),
                host.ReadLinkName($"{n}/device/subsystem"),
                host.ReadText($"{n}/uevent"),
                host.Exists($"{n}/wireless") || host.Exists($"{n}/phy80211"),
                permanent.GetValueOrDefault(name)));
            if (nic is not null)
            {
                nics.Add(nic);
            }
        }

        return nics;
    }

    /// <summary>Permanent MACs, wired on-board (PCI, virtio, platform) first, then Wi-Fi, then USB: a dock or dongle must never come first.</summary>
    internal static IReadOnlyList<string> IdentityMacs(IEnumerable<NicFacts> nics) =>
        nics.Where(n => n.PermanentMac is not null)
            .OrderBy(n => n.Bus == "usb" ? 2 : n.Wireless ? 1 : 0)
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .Select(n => n.PermanentMac!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
