using Microsoft.Extensions.Logging;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Ssh;

/// <summary>
/// One open connection per node serial, reused by probes and operations and opened again when it dropped (a node
/// that rebooted). Connecting always goes through the host-key pin.
/// </summary>
public sealed class NodeConnectionPool(SshOptions options, IHostKeyStore hostKeys, ILogger<NodeConnectionPool> logger) : IAsyncDisposable
{
    private readonly Dictionary<string, (SemaphoreSlim Lock, NodeConnection? Connection)> _nodes = new(StringComparer.Ordinal);

    public SshOptions Options => options;

    public async Task<NodeConnection> GetAsync(InventoryNode node, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(node);
        SemaphoreSlim gate;
        lock (_nodes)
        {
            if (!_nodes.TryGetValue(node.Serial, out var entry))
            {
                entry = (new SemaphoreSlim(1, 1), null);
                _nodes[node.Serial] = entry;
            }

            gate = entry.Lock;
        }

        await gate.WaitAsync(ct);
        try
        {
            NodeConnection? current;
            lock (_nodes)
            {
                current = _nodes[node.Serial].Connection;
            }

            if (current is { IsConnected: true } && current.Node.Address == node.Address)
            {
                return current;
            }

            if (current is not null)
            {
                await current.DisposeAsync();
            }

            var fresh = await NodeConnection.ConnectAsync(node, options, hostKeys, logger, ct);
            lock (_nodes)
            {
                _nodes[node.Serial] = (gate, fresh);
            }

            return fresh;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Closes the connection of <paramref name="serial"/> (after an error that may have broken it).</summary>
    public async Task DropAsync(string serial)
    {
        NodeConnection? current = null;
        lock (_nodes)
        {
            if (_nodes.TryGetValue(serial, out var entry))
            {
                current = entry.Connection;
                _nodes[serial] = (entry.Lock, null);
            }
        }

        if (current is not null)
        {
            await current.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<NodeConnection> all;
        lock (_nodes)
        {
            all = [.. _nodes.Values.Select(v => v.Connection).OfType<NodeConnection>()];
            _nodes.Clear();
        }

        foreach (var c in all)
        {
            await c.DisposeAsync();
        }
    }
}
