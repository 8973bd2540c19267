using System.Net;
using System.Net.Sockets;
using NekkoMetal.TestKit;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// A loopback TCP port in the test's own network namespace that forwards every connection to
/// <c>host:port</c> inside a lab namespace (the outgoing socket is made inside the namespace, see
/// <see cref="NetworkNamespaces"/>), so in-process clients (SSH.NET, gRPC) reach the test nodes as the boot server
/// would reach machines on its LAN. A target that is down shows as a connection closed at once.
/// </summary>
internal sealed class LabPortForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _namespace;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public LabPortForwarder(string labNamespace, string host, int port)
    {
        _namespace = labNamespace;
        _target = new IPEndPoint(IPAddress.Parse(host), port);
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(Socket client)
    {
        using (client)
        {
            using var upstream = NetworkNamespaces.Run(_namespace, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            try
            {
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(5));
                await upstream.ConnectAsync(_target, connectTimeout.Token);
                using var a = new NetworkStream(client, ownsSocket: false);
                using var b = new NetworkStream(upstream, ownsSocket: false);
                var up = a.CopyToAsync(b, _stop.Token);
                var down = b.CopyToAsync(a, _stop.Token);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // the target is down or a side closed: the client sees its connection closed
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}
