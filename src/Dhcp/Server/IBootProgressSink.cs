using System.Net.NetworkInformation;

namespace NekkoMetal.Dhcp.Server;

/// <summary>
/// Where the DHCP handler reports that a machine was seen, so the boot server can record per-machine boot progress.
/// Called on the request path: implementations must be fast, must not block and must not throw (queue the write).
/// </summary>
public interface IBootProgressSink
{
    /// <param name="mac">The client's hardware address.</param>
    /// <param name="uuid">Option 97 when the client sent it (PXE firmware, iPXE).</param>
    /// <param name="stage">One of <see cref="DhcpBootStages"/>.</param>
    void DhcpSeen(PhysicalAddress mac, Guid? uuid, string stage);
}

/// <summary>The stages the handler reports; the same strings as the inventory's boot stages.</summary>
public static class DhcpBootStages
{
    /// <summary>A DISCOVER arrived (either mode).</summary>
    public const string DhcpDiscover = "dhcp-discover";

    /// <summary>We sent a DHCPACK: a lease (authoritative) or boot information on the PXE port (proxy).</summary>
    public const string DhcpAck = "dhcp-ack";
}

/// <summary>Records nothing: the default when the host registers no sink.</summary>
public sealed class NullBootProgressSink : IBootProgressSink
{
    public static NullBootProgressSink Instance { get; } = new();

    public void DhcpSeen(PhysicalAddress mac, Guid? uuid, string stage)
    {
    }
}
