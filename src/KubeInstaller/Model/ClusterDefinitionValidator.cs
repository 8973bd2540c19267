using System.Net;
using System.Net.Sockets;

namespace NekkoMetal.KubeInstaller.Model;

/// <summary>Checks a definition before planning; every problem is reported at once.</summary>
public static class ClusterDefinitionValidator
{
    public static IReadOnlyList<string> Validate(ClusterDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(definition.Name))
        {
            errors.Add("name: required");
        }

        if (definition.ControlPlaneCount < 1)
        {
            errors.Add("controlPlaneCount: must be at least 1");
        }

        if (!IPNetwork.TryParse(definition.PodCidr, out var pods) || pods.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            errors.Add($"podCidr: '{definition.PodCidr}' is not an IPv4 CIDR");
        }

        if (!IPNetwork.TryParse(definition.ServiceCidr, out var services) || services.BaseAddress.AddressFamily != AddressFamily.InterNetwork
            || services.PrefixLength > 28)
        {
            errors.Add($"serviceCidr: '{definition.ServiceCidr}' is not an IPv4 CIDR of at least 16 addresses");
        }

        if (string.IsNullOrWhiteSpace(definition.DnsDomain))
        {
            errors.Add("dnsDomain: required");
        }

        foreach (var component in Enum.GetValues<ClusterComponent>())
        {
            var version = definition.VersionOf(component);
            if (string.IsNullOrWhiteSpace(version))
            {
                errors.Add($"{component.ToWire()}: version required");
            }
            else if (definition.PinOf(component) is null)
            {
                errors.Add($"binaries: no pinned {component.ToWire()} {version}");
            }
        }

        foreach (var pin in definition.Binaries)
        {
            if (!IsSha256Hex(pin.Sha256))
            {
                errors.Add($"binaries: {pin.Component.ToWire()} {pin.Version}: sha256 must be 64 lower-case hex digits");
            }
        }

        return errors;
    }

    private static bool IsSha256Hex(string value) =>
        value is { Length: 64 } && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
