namespace NekkoMetal.KubeInstaller.Model;

/// <summary>
/// The inventory's lifecycle state of a machine, as the planner needs it. The host maps the inventory's
/// <c>MachineState</c> one to one; the planner keeps no reference to the inventory so that it stays pure and
/// builds without etcd.
/// </summary>
public enum NodeState
{
    Uninitialized,
    Healthy,
    Unhealthy,
    Unreachable,
    Updating,
    Retiring,
    Retired,
}

/// <summary>A machine of the inventory, as a candidate cluster node.</summary>
/// <param name="Serial">Machine identity (SMBIOS serial or its fallbacks).</param>
/// <param name="Address">The node's IPv4 address (etcd peer/client URLs, certificate SANs, <c>--node-ip</c>).</param>
/// <param name="Role">The inventory role (matched by <see cref="NodeSelector"/>).</param>
/// <param name="Labels">The inventory labels.</param>
/// <param name="State">Lifecycle state: only healthy machines join; retiring and retired ones leave.</param>
public sealed record InventoryNode(
    string Serial,
    string Address,
    string Role,
    IReadOnlyDictionary<string, string> Labels,
    NodeState State)
{
    /// <summary>The Kubernetes node name and etcd member name: the serial, lower-case, other characters as '-'.</summary>
    public string Name { get; } = NodeNames.FromSerial(Serial);

    /// <summary>Retiring and retired machines are taken out of the cluster.</summary>
    public bool IsLeaving => State is NodeState.Retiring or NodeState.Retired;
}

public static class NodeNames
{
    /// <summary>A DNS-1123 label made from a serial: ASCII letters lower-cased, digits kept, anything else '-'.</summary>
    public static string FromSerial(string serial)
    {
        ArgumentNullException.ThrowIfNull(serial);
        return string.Create(serial.Length, serial, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                span[i] = c switch
                {
                    >= 'a' and <= 'z' or >= '0' and <= '9' => c,
                    >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
                    _ => '-',
                };
            }
        });
    }
}
