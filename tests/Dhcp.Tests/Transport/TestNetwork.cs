using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using NekkoMetal.TestKit;

namespace NekkoMetal.Dhcp.Tests.Transport;

/// <summary>
/// Two network namespaces of our own, <c>nekko-dhcp-&lt;random&gt;-s</c> (server, veth <c>srv0</c> with
/// <see cref="ServerAddress"/>/24) and <c>…-c</c> (client, veth <c>cli0</c>, no address), joined by a veth pair.
/// Nothing touches the root namespace; <see cref="Dispose"/> deletes both namespaces, which deletes the veth pair.
/// In-process code runs inside a namespace on a dedicated thread that called setns(2): sockets keep the namespace
/// they were created in, whichever thread uses them later.
/// </summary>
internal sealed class TestNetwork : IDisposable
{
    public const string ServerInterface = "srv0";
    public const string ClientInterface = "cli0";

    private TestNetwork(string id, string subnet)
    {
        Id = id;
        ServerNamespace = $"nekko-dhcp-{id}-s";
        ClientNamespace = $"nekko-dhcp-{id}-c";
        Subnet = subnet;
        Directory = System.IO.Directory.CreateTempSubdirectory($"nekko-dhcp-{id}-").FullName;
    }

    public string Id { get; }

    public string ServerNamespace { get; }

    public string ClientNamespace { get; }

    /// <summary>The first three octets, e.g. <c>10.217.0</c>.</summary>
    public string Subnet { get; }

    public string ServerAddress => Subnet + ".1";

    /// <summary>A temporary directory for scripts, lease files and logs; deleted with the network.</summary>
    public string Directory { get; }

    /// <summary>Why the namespace tests cannot run here, or null when they can.</summary>
    public static string? Unavailable(params string[] binaries)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux network namespaces";
        }

        if (Environment.UserName != "root" && geteuid() != 0)
        {
            return "needs root to create network namespaces (ip netns add)";
        }

        foreach (var binary in binaries.Prepend("ip"))
        {
            if (FindOnPath(binary) is null)
            {
                return $"needs '{binary}' on PATH (Debian: {PackageOf(binary)})";
            }
        }

        return null;
    }

    public static TestNetwork Create(string subnet = "10.217.0")
    {
        var network = new TestNetwork(Convert.ToHexString(Guid.NewGuid().ToByteArray()[..4]).ToLowerInvariant(), subnet);
        try
        {
            Ip("netns", "add", network.ServerNamespace);
            Ip("netns", "add", network.ClientNamespace);
            foreach (var ns in new[] { network.ServerNamespace, network.ClientNamespace })
            {
                // No duplicate address detection: link-local addresses are usable at once (router advertisement tests).
                Run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
                Ip("-n", ns, "link", "set", "lo", "up");
            }

            Ip("-n", network.ServerNamespace, "link", "add", ServerInterface, "type", "veth", "peer", "name", ClientInterface, "netns", network.ClientNamespace);
            Ip("-n", network.ServerNamespace, "addr", "add", network.ServerAddress + "/24", "dev", ServerInterface);
            Ip("-n", network.ServerNamespace, "link", "set", ServerInterface, "up");
            Ip("-n", network.ClientNamespace, "link", "set", ClientInterface, "up");

            // IPv6 link-local addresses appear once both ends are up; servers look them up at start.
            foreach (var (ns, itf) in new[] { (network.ServerNamespace, ServerInterface), (network.ClientNamespace, ClientInterface) })
            {
                for (var i = 0; i < 100 && !HasUsableLinkLocal(ns, itf); i++)
                {
                    Thread.Sleep(50);
                }
            }

            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private static bool HasUsableLinkLocal(string ns, string itf)
    {
        var output = Run("ip", "-n", ns, "-6", "addr", "show", "dev", itf, "scope", "link").Output;
        return output.Contains("fe80", StringComparison.Ordinal) && !output.Contains("tentative", StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="action"/> on a new thread inside the server namespace and returns its result.</summary>
    public T InServerNamespace<T>(Func<T> action) => InNamespace(ServerNamespace, action);

    public T InClientNamespace<T>(Func<T> action) => InNamespace(ClientNamespace, action);

    /// <summary>Runs a program inside the client namespace (<c>ip netns exec</c>).</summary>
    public Task<ProcessResult> RunInClientAsync(TimeSpan timeout, params string[] command) =>
        RunAsync(timeout, ["netns", "exec", ClientNamespace, .. command]);

    /// <summary>Starts a long-running program inside the client namespace; the caller stops it.</summary>
    public Process StartInClient(params string[] command)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "netns", "exec", ClientNamespace }.Concat(command))
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }

    private readonly StringBuilder _output = new();

    /// <summary>What the processes from <see cref="StartInClient"/> printed so far.</summary>
    public string BackgroundOutput
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>An executable shell script in <see cref="Directory"/>.</summary>
    public string WriteScript(string name, string body)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public void Dispose()
    {
        // Only our own namespaces, by name.
        Run("ip", "netns", "del", ClientNamespace);
        Run("ip", "netns", "del", ServerNamespace);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Ip(params string[] args)
    {
        var result = Run("ip", args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {result.Output}");
        }
    }

    private static T InNamespace<T>(string name, Func<T> action) => NetworkNamespaces.Run(name, action);

    internal sealed record ProcessResult(int ExitCode, string Output);

    private static ProcessResult Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result + stderr.Result);
    }

    private static async Task<ProcessResult> RunAsync(TimeSpan timeout, string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new ProcessResult(-1, $"timed out after {timeout}: " + await stdout + await stderr);
        }

        return new ProcessResult(process.ExitCode, await stdout + await stderr);
    }

    private static string? FindOnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Append("/usr/sbin").Append("/sbin")
            .Select(d => Path.Combine(d, binary))
            .FirstOrDefault(File.Exists);

    private static string PackageOf(string binary) => binary switch
    {
        "ip" => "iproute2",
        "busybox" => "busybox or busybox-static",
        "dhclient" => "isc-dhcp-client",
        _ => binary,
    };


    /// <summary>Sends a signal to a process this test started (by its id).</summary>
    public static void Signal(Process process, int signal)
    {
        if (kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public const int SigUsr1 = 10;
    public const int SigTerm = 15;

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
