using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NekkoMetal.TestKit;

/// <summary>
/// Real test nodes: Debian 12 systems booted by systemd-nspawn (systemd as PID 1, OpenSSH with key auth, working
/// systemctl), each on an overlay of one shared base (<c>scripts/build-test-node-base.sh</c>, built once into
/// <c>NEKKO_TEST_CACHE</c>), attached to a <see cref="Lab"/>'s bridge with a static address and no route out.
/// The recipe and its limits are in the repo's docs/test-nodes.md. Each cluster has its own names, cgroups and
/// directories, so test classes never touch each other's nodes.
/// </summary>
public sealed class TestNodeCluster : IAsyncDisposable
{
    private static readonly SemaphoreSlim BaseLock = new(1, 1);
    private readonly string _dir;
    private readonly string _id;
    private readonly List<TestNode> _nodes = [];

    private TestNodeCluster(Lab lab, string dir, string id)
    {
        Lab = lab;
        _dir = dir;
        _id = id;
    }

    public Lab Lab { get; }

    public IReadOnlyList<TestNode> Nodes => _nodes;

    /// <summary>The SSH private key that every node's root accepts.</summary>
    public string PrivateKey => Path.Combine(_dir, "id_ed25519");

    /// <summary>Builds the base if needed, then boots <paramref name="count"/> nodes at <c>{lab}.{firstOctet + i}</c> and waits until each answers SSH.</summary>
    public static async Task<TestNodeCluster> StartAsync(Lab lab, int count, int firstOctet = 20, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(lab);
        Lab.RequireRoot();
        var baseDir = await EnsureBaseAsync();
        var id = Guid.NewGuid().ToString("N")[..6];
        var dir = Directory.CreateTempSubdirectory($"nekko-nodes-{id}-").FullName;
        var cluster = new TestNodeCluster(lab, dir, id);
        try
        {
            await Lab.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nekko-test", "-f", cluster.PrivateKey);
            var publicKey = await File.ReadAllTextAsync(cluster.PrivateKey + ".pub");
            for (var i = 0; i < count; i++)
            {
                var node = new TestNode(cluster, $"n{id}{i}", $"{lab.SubnetPrefix}.{firstOctet + i}");
                cluster._nodes.Add(node);
                await node.PrepareAsync(baseDir, publicKey);
                node.Start();
            }

            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
            foreach (var node in cluster._nodes)
            {
                await node.WaitForSshAsync(deadline);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The base root filesystem, built by the script on first use (≈ 3 min, 270 MB) and reused afterwards.</summary>
    public static async Task<string> EnsureBaseAsync()
    {
        var cache = Environment.GetEnvironmentVariable("NEKKO_TEST_CACHE") ?? "/var/tmp/nekkometal-tests";
        var baseDir = Path.Combine(cache, "node-base");
        if (File.Exists(Path.Combine(baseDir, ".complete")))
        {
            return baseDir;
        }

        await BaseLock.WaitAsync();
        try
        {
            // Another test process may be building it: the script's own lock file makes it wait.
            var script = Path.Combine(RepoRoot(), "scripts", "build-test-node-base.sh");
            await Lab.Run("flock", Path.Combine(cache, ".node-base.lock"), script, baseDir);
            return baseDir;
        }
        finally
        {
            BaseLock.Release();
        }
    }

    /// <summary>Runs <paramref name="command"/> on <paramref name="node"/> over SSH (from inside the lab's namespace); returns exit code and output.</summary>
    public async Task<(int Code, string Output)> SshAsync(TestNode node, string command, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        string[] args = ["ip", "netns", "exec", Lab.Name, "ssh", .. SshOptions(), $"root@{node.Address}", command];
        return await RunAsync(timeout ?? TimeSpan.FromSeconds(60), args);
    }

    /// <summary>Copies a local file to the node (scp).</summary>
    public async Task CopyToAsync(TestNode node, string localPath, string remotePath)
    {
        ArgumentNullException.ThrowIfNull(node);
        string[] args = ["ip", "netns", "exec", Lab.Name, "scp", "-q", .. SshOptions(), localPath, $"root@{node.Address}:{remotePath}"];
        var (code, output) = await RunAsync(TimeSpan.FromSeconds(120), args);
        if (code != 0)
        {
            throw new InvalidOperationException($"scp {localPath} to {node.Name}:{remotePath} failed ({code}): {output}");
        }
    }

    private string[] SshOptions() =>
        ["-i", PrivateKey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5"];

    internal static async Task<(int Code, string Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {args[0]}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}: {string.Join(' ', args)}");
        }

        return (p.ExitCode, (await stdout) + (await stderr));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NekkoMetal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NekkoMetal.sln not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.StopAsync()));
        foreach (var h in TestNode.Hierarchies)
        {
            try
            {
                Directory.Delete(Path.Combine("/sys/fs/cgroup", h, $"nekko-nodes-{_id}"));
            }
            catch (Exception e) when (e is IOException or DirectoryNotFoundException)
            {
                // not created, or a node's group is still there (its stop logged why)
            }
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // an overlay still busy: left for the OS's temp cleanup
        }
    }

    internal string NodeDir(string name) => Path.Combine(_dir, name);

    internal string CgroupName(string node) => $"nekko-nodes-{_id}/{node}";
}

/// <summary>One nspawn node: name, address, its overlay and the nspawn process (restarted after a reboot inside the node).</summary>
public sealed class TestNode
{
    internal static readonly string[] Hierarchies = ["systemd", "unified"];
    private readonly TestNodeCluster _cluster;
    private readonly StringBuilder _log = new();
    private Process? _process;
    private volatile bool _stopping;
    private Task _supervisor = Task.CompletedTask;

    internal TestNode(TestNodeCluster cluster, string name, string address)
    {
        _cluster = cluster;
        Name = name;
        Address = address;
    }

    public string Name { get; }

    public string Address { get; }

    /// <summary>The cluster the node belongs to (its SSH key and lab).</summary>
    public TestNodeCluster Cluster => _cluster;

    /// <summary>The node's root filesystem as the host sees it (the overlay), to drop files in before or while it runs.</summary>
    public string Root => Path.Combine(_cluster.NodeDir(Name), "merged");

    /// <summary>What nspawn printed (boot messages are on the node's journal, not here).</summary>
    public string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    internal async Task PrepareAsync(string baseDir, string publicKey)
    {
        var dir = _cluster.NodeDir(Name);
        foreach (var sub in new[] { "upper", "work", "merged" })
        {
            Directory.CreateDirectory(Path.Combine(dir, sub));
        }

        await Lab.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={baseDir},upperdir={dir}/upper,workdir={dir}/work", Root);
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/hostname"), Name + "\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/hosts"), $"127.0.0.1 localhost\n{Address} {Name}\n");
        Directory.CreateDirectory(Path.Combine(Root, "etc/systemd/network"));
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/systemd/network/10-host0.network"),
            $"[Match]\nName=host0\n\n[Network]\nAddress={Address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n");
        var ssh = Path.Combine(Root, "root/.ssh");
        Directory.CreateDirectory(ssh);
        await File.WriteAllTextAsync(Path.Combine(ssh, "authorized_keys"), publicKey);
        await Lab.Run("chmod", "700", ssh);
        foreach (var h in Hierarchies)
        {
            Directory.CreateDirectory(Path.Combine("/sys/fs/cgroup", h, _cluster.CgroupName(Name)));
        }
    }

    internal void Start() => _supervisor = Task.Run(SuperviseAsync);

    /// <summary>nspawn exits with 133 when the node reboots: start it again until the cluster is torn down.</summary>
    private async Task SuperviseAsync()
    {
        while (!_stopping)
        {
            var moves = string.Join("; ", Hierarchies.Select(h => $"echo $$ > /sys/fs/cgroup/{h}/{_cluster.CgroupName(Name)}/cgroup.procs"));
            var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            // From its own cgroup (nodes started from one cgroup share their payload cgroups), through nsenter
            // (ip netns exec breaks nspawn's cgroup detection), without a system bus (no systemd on the host).
            psi.ArgumentList.Add($"{moves}; exec nsenter --net=/run/netns/{_cluster.Lab.Name} systemd-nspawn -D {Root} -M {Name} -b " +
                $"--register=no --keep-unit --console=passive --network-bridge={Lab.Bridge} --hostname={Name}");
            var p = Process.Start(psi)!;
            _process = p;
            p.OutputDataReceived += (_, e) => Append(e.Data);
            p.ErrorDataReceived += (_, e) => Append(e.Data);
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            await p.WaitForExitAsync();
            if (p.ExitCode != 133)
            {
                Append($"nspawn exited with {p.ExitCode.ToString(CultureInfo.InvariantCulture)}");
                return;
            }
        }
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    internal async Task WaitForSshAsync(DateTime deadline)
    {
        while (true)
        {
            var (code, output) = await _cluster.SshAsync(this, "true", TimeSpan.FromSeconds(10));
            if (code == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline || _supervisor.IsCompleted)
            {
                throw new TimeoutException($"test node {Name} ({Address}) did not answer SSH: {output}\n{Log()}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Powers the node off (SIGTERM to nspawn: a clean shutdown of the node's systemd), as a machine that dies or is switched off.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        if (_process is { HasExited: false } p)
        {
            await Lab.Run("kill", "-TERM", p.Id.ToString(CultureInfo.InvariantCulture));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _supervisor;
        foreach (var h in Hierarchies)
        {
            KillAndRemove(new DirectoryInfo(Path.Combine("/sys/fs/cgroup", h, _cluster.CgroupName(Name))));
        }

        try
        {
            await Lab.Run("umount", "-l", Root);
        }
        catch (InvalidOperationException)
        {
            // not mounted (never started, or stopped already)
        }
    }

    /// <summary>Starts a stopped node again (same disk: its overlay is kept).</summary>
    public async Task StartAgainAsync(TimeSpan? timeout = null)
    {
        if (!_supervisor.IsCompleted)
        {
            throw new InvalidOperationException($"{Name} is running");
        }

        var dir = _cluster.NodeDir(Name);
        var baseDir = await TestNodeCluster.EnsureBaseAsync();
        await Lab.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={baseDir},upperdir={dir}/upper,workdir={dir}/work", Root);
        foreach (var h in Hierarchies)
        {
            Directory.CreateDirectory(Path.Combine("/sys/fs/cgroup", h, _cluster.CgroupName(Name)));
        }

        _stopping = false;
        Start();
        await WaitForSshAsync(DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90)));
    }

    /// <summary>Kills what is left in a cgroup and its children, then removes them depth-first.</summary>
    private static void KillAndRemove(DirectoryInfo group)
    {
        if (!group.Exists)
        {
            return;
        }

        foreach (var child in group.GetDirectories())
        {
            KillAndRemove(child);
        }

        for (var attempt = 0; attempt < 50; attempt++)
        {
            var procs = Path.Combine(group.FullName, "cgroup.procs");
            var pids = File.Exists(procs) ? File.ReadAllLines(procs).Where(l => l.Length > 0).ToList() : [];
            foreach (var pid in pids)
            {
                try
                {
                    Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture)).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // gone already
                }
            }

            try
            {
                group.Delete();
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(100); // processes still exiting
            }
        }
    }
}
