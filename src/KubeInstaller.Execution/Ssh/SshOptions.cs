using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Execution.Ssh;

/// <summary>How the executor reaches nodes: key authentication as <see cref="User"/>, with timeouts on connect and on each command.</summary>
public sealed record SshOptions
{
    public string User { get; init; } = "root";

    /// <summary>The private key (OpenSSH or PEM format) every node's <see cref="User"/> accepts.</summary>
    public required string PrivateKeyPath { get; init; }

    public int Port { get; init; } = 22;

    /// <summary>TCP connect + key exchange + authentication.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default limit of one remote command (uploads have their own, scaled by size).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where to connect for a node; null = its inventory address and <see cref="Port"/>. Tests route through a forwarder.</summary>
    public Func<InventoryNode, (string Host, int Port)>? EndpointOf { get; init; }

    internal (string Host, int Port) Endpoint(InventoryNode node) => EndpointOf?.Invoke(node) ?? (node.Address, Port);
}
