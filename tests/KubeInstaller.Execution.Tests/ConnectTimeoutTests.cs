using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

/// <summary>Connecting gives up after the connect timeout, whether nothing listens or a peer accepts and never speaks SSH.</summary>
public sealed class ConnectTimeoutTests : IDisposable
{
    private readonly string _key = Path.Combine(Directory.CreateTempSubdirectory("nekko-ssh-").FullName, "id_ed25519");

    public ConnectTimeoutTests()
    {
        using var p = Process.Start(new ProcessStartInfo("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", _key]) { RedirectStandardOutput = true })!;
        p.WaitForExit();
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_key)!, recursive: true);

    private sealed class NoPins : IHostKeyStore
    {
        public Task<string?> GetAsync(string serial, CancellationToken ct) => Task.FromResult<string?>(null);

        public Task<string> PinAsync(string serial, string fingerprint, CancellationToken ct) => Task.FromResult(fingerprint);

        public Task<bool> ForgetAsync(string serial, CancellationToken ct) => Task.FromResult(false);
    }

    private static readonly InventoryNode Node = new("SN-1", "127.0.0.1", "cp", new Dictionary<string, string>(), NodeState.Healthy);

    [Fact]
    public async Task A_peer_that_accepts_but_never_speaks_ssh_is_unreachable_after_the_connect_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptSocketAsync();
        var options = new SshOptions { PrivateKeyPath = _key, ConnectTimeout = TimeSpan.FromSeconds(1), EndpointOf = _ => ("127.0.0.1", ((IPEndPoint)silent.LocalEndpoint).Port) };
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<NodeUnreachableException>(() => NodeConnection.ConnectAsync(Node, options, new NoPins(), NullLogger.Instance, default));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.True(e.IsTransient);
        Assert.Contains("SN-1", e.Message, StringComparison.Ordinal);
        (await accepted).Dispose();
    }

    [Fact]
    public async Task A_closed_port_is_unreachable_at_once()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        var options = new SshOptions { PrivateKeyPath = _key, ConnectTimeout = TimeSpan.FromSeconds(5), EndpointOf = _ => ("127.0.0.1", port) };
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<NodeUnreachableException>(() => NodeConnection.ConnectAsync(Node, options, new NoPins(), NullLogger.Instance, default));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
    }
}
