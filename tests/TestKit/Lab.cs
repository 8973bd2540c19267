using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NekkoMetal.TestKit;

/// <summary>
/// A lab network of our own: a network namespace with a bridge (the provisioning LAN), an address for the boot
/// server on it, and tap devices for VMs. Nothing in it can reach any other network; deleting the namespace
/// removes bridge and taps. Names are unique per test so runs never touch each other's namespaces.
/// </summary>
public sealed class Lab : IAsyncDisposable
{
    private Lab(string name, string subnetPrefix)
    {
        Name = name;
        SubnetPrefix = subnetPrefix;
    }

    public string Name { get; }

    private readonly List<string> _peers = [];

    /// <summary>The first three octets, e.g. "10.214.7".</summary>
    public string SubnetPrefix { get; }

    public string ServerAddress => SubnetPrefix + ".1";

    public string Cidr => SubnetPrefix + ".0/24";

    public const string Bridge = "br0";

    /// <summary>Creates the namespace with loopback up and the bridge at <c>.1/24</c> (and an IPv6 ULA for router advertisements).</summary>
    public static async Task<Lab> CreateAsync(int taps = 1)
    {
        RequireRoot();
        var id = Guid.NewGuid().ToString("N")[..8];
        var octet = Random.Shared.Next(16, 250);
        var lab = new Lab($"nekko-{id}", $"10.{Random.Shared.Next(100, 250)}.{octet}");
        await Run("ip", "netns", "add", lab.Name);
        await lab.Exec("ip", "link", "set", "lo", "up");
        await lab.Exec("ip", "link", "add", Bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0");

        // A fixed (locally administered) MAC: a bridge without one takes the lowest of its ports' MACs and changes it
        // when ports come and go (a node stopped, a host added), which leaves every neighbour's ARP entry for the
        // boot server stale for a while — heartbeats then stop for seconds for no reason of the test's.
        await lab.Exec("ip", "link", "set", Bridge, "address", "02:6e:6b:00:00:01");
        await lab.Exec("ip", "addr", "add", lab.ServerAddress + "/24", "dev", Bridge);
        await lab.Exec("ip", "addr", "add", $"fd00:{octet:x}::1/64", "dev", Bridge, "nodad");
        for (var i = 0; i < taps; i++)
        {
            await lab.Exec("ip", "tuntap", "add", "dev", $"tap{i}", "mode", "tap");
            await lab.Exec("ip", "link", "set", $"tap{i}", "master", Bridge);
            await lab.Exec("ip", "link", "set", $"tap{i}", "up");
        }

        await lab.Exec("ip", "link", "set", Bridge, "up");
        return lab;
    }

    public static void RequireRoot()
    {
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("network namespace tests need root (ip netns); run scripts/test.sh as root or with sudo");
        }
    }

    /// <summary>Runs a command inside the namespace and waits for it.</summary>
    public Task<string> Exec(params string[] args) => Run(["ip", "netns", "exec", Name, .. args]);

    /// <summary>
    /// Another host on the lab LAN (a home router, a second boot server): its own namespace named
    /// <c>{Name}-{suffix}</c>, joined to the bridge by a veth whose end inside is <c>lan0</c> with
    /// <c>{SubnetPrefix}.{hostOctet}/24</c>. Deleted with the lab.
    /// </summary>
    public async Task<string> AddHostAsync(string suffix, int hostOctet)
    {
        var ns = $"{Name}-{suffix}";
        var outside = $"v{suffix}{_peers.Count}";
        await Run("ip", "netns", "add", ns);
        _peers.Add(ns);
        await Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        await Exec("ip", "link", "add", outside, "type", "veth", "peer", "name", "lan0", "netns", ns);
        await Exec("ip", "link", "set", outside, "master", Bridge);
        await Exec("ip", "link", "set", outside, "up");
        await Run("ip", "netns", "exec", ns, "ip", "addr", "add", $"{SubnetPrefix}.{hostOctet}/24", "dev", "lan0");
        await Run("ip", "netns", "exec", ns, "ip", "link", "set", "lan0", "up");
        return ns;
    }

    /// <summary>Starts a long-running process inside the namespace (output collected into <paramref name="log"/>).</summary>
    public Process Start(StringBuilder log, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartIn(Name, log, environment, args);

    /// <summary>Starts a long-running process in namespace <paramref name="ns"/> (the lab's or one of its hosts').</summary>
    public static Process StartIn(string ns, StringBuilder log, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(log);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {args[0]}");
        p.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        p.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static async Task<string> Run(params string[] args)
    {
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {args[0]}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{string.Join(' ', args)}' failed with {p.ExitCode.ToString(CultureInfo.InvariantCulture)}: {await stderr}");
        }

        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in _peers.Append(Name))
        {
            try
            {
                await Run("ip", "netns", "del", ns);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
