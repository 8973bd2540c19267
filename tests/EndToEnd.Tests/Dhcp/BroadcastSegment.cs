using System.Diagnostics;
using System.Globalization;
using System.Text;
using NekkoMetal.TestKit;

namespace NekkoMetal.EndToEnd.Tests.Dhcp;

/// <summary>
/// One broadcast domain of our own, larger than a <see cref="Lab"/>'s /24: a namespace holding the bridge
/// <c>br0</c> at <see cref="BridgeAddress"/> in a random <c>10.x.0.0/21</c>, and member namespaces
/// (<c>{Name}-{member}</c>), each joined to the bridge by a veth whose inside end is <see cref="MemberInterface"/>.
/// Every member therefore has an interface of its own on the same segment. Nothing is added to the root namespace;
/// <see cref="DisposeAsync"/> deletes the members and the segment, which deletes the veths.
/// </summary>
internal sealed class BroadcastSegment : IAsyncDisposable
{
    public const string Bridge = "br0";
    public const string MemberInterface = "lan0";
    public const int PrefixLength = 21;

    private readonly List<string> _members = [];

    private BroadcastSegment(string name, int secondOctet)
    {
        Name = name;
        SecondOctet = secondOctet;
    }

    /// <summary>The segment's namespace (the bridge).</summary>
    public string Name { get; }

    private int SecondOctet { get; }

    public string Cidr => $"10.{SecondOctet}.0.0/{PrefixLength}";

    public string BridgeAddress => Address(0, 1);

    /// <summary>An address of the segment's /21: <c>10.x.{third}.{fourth}</c>, third 0..7.</summary>
    public string Address(int third, int fourth) =>
        third is >= 0 and <= 7 && fourth is >= 0 and <= 255
            ? string.Create(CultureInfo.InvariantCulture, $"10.{SecondOctet}.{third}.{fourth}")
            : throw new ArgumentOutOfRangeException(nameof(third), $"10.x.{third}.{fourth} is outside the /{PrefixLength}");

    public string Namespace(string member) => $"{Name}-{member}";

    public static async Task<BroadcastSegment> CreateAsync()
    {
        Lab.RequireRoot();
        var segment = new BroadcastSegment($"nekko-seg-{Guid.NewGuid().ToString("N")[..6]}", Random.Shared.Next(100, 250));
        try
        {
            await Lab.Run("ip", "netns", "add", segment.Name);
            await Lab.Run("ip", "-n", segment.Name, "link", "set", "lo", "up");
            await Lab.Run("ip", "-n", segment.Name, "link", "add", Bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0");
            await Lab.Run("ip", "-n", segment.Name, "addr", "add", $"{segment.BridgeAddress}/{PrefixLength}", "dev", Bridge);
            await Lab.Run("ip", "-n", segment.Name, "link", "set", Bridge, "up");
            return segment;
        }
        catch
        {
            await segment.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds namespace <c>{Name}-{member}</c> with loopback up and <see cref="MemberInterface"/> on the bridge,
    /// with <paramref name="address"/>/21 or, for a DHCP client, no address.
    /// </summary>
    public async Task AddMemberAsync(string member, string? address)
    {
        var ns = Namespace(member);
        var port = "v-" + member;
        if (port.Length > 15)
        {
            throw new ArgumentException("member names are at most 13 characters (interface names are at most 15)", nameof(member));
        }

        await Lab.Run("ip", "netns", "add", ns);
        _members.Add(ns);
        await Lab.Run("ip", "-n", ns, "link", "set", "lo", "up");
        await Lab.Run("ip", "-n", Name, "link", "add", port, "type", "veth", "peer", "name", MemberInterface, "netns", ns);
        await Lab.Run("ip", "-n", Name, "link", "set", port, "master", Bridge);
        await Lab.Run("ip", "-n", Name, "link", "set", port, "up");
        if (address is not null)
        {
            await Lab.Run("ip", "-n", ns, "addr", "add", $"{address}/{PrefixLength}", "dev", MemberInterface);
        }

        await Lab.Run("ip", "-n", ns, "link", "set", MemberInterface, "up");
    }

    /// <summary>Runs a command in a member's namespace (or the segment's when <paramref name="member"/> is null) and waits for it.</summary>
    public Task<string> ExecAsync(string? member, params string[] args) =>
        Lab.Run(["ip", "netns", "exec", member is null ? Name : Namespace(member), .. args]);

    /// <summary>Starts a long-running process in a member's namespace (or the segment's); output goes to <paramref name="log"/>.</summary>
    public static Process Start(string namespaceName, StringBuilder log, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", namespaceName }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {args[0]}");
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) => Append(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        }
    }

    /// <summary>Stops a process this test started: SIGTERM, then SIGKILL to its tree after <paramref name="grace"/>.</summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        if (!process.HasExited)
        {
            try
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill!.WaitForExitAsync();
                await process.WaitForExitAsync().WaitAsync(grace);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        // Only our own namespaces, by name: members first, then the segment (which takes the veths with it).
        foreach (var ns in Enumerable.Reverse(_members).Append(Name))
        {
            try
            {
                await Lab.Run("ip", "netns", "del", ns);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
