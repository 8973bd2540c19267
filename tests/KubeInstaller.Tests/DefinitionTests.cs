using NekkoMetal.KubeInstaller.Model;
using static NekkoMetal.KubeInstaller.Tests.Scenario;

namespace NekkoMetal.KubeInstaller.Tests;

public class DefinitionTests
{
    public static TheoryData<string, Func<ClusterDefinition, ClusterDefinition>> Invalid => new()
    {
        { "controlPlaneCount", d => d with { ControlPlaneCount = 0 } },
        { "podCidr", d => d with { PodCidr = "10.244.0.0" } },
        { "serviceCidr", d => d with { ServiceCidr = "fd00::/108" } },
        { "dnsDomain", d => d with { DnsDomain = " " } },
        { "name", d => d with { Name = "" } },
        { "no pinned kubelet 1.33.0", d => d with { KubernetesVersion = "1.33.0" } },
        { "sha256", d => d with { Binaries = [.. d.Binaries, Pin(ClusterComponent.Etcd, "9.9.9") with { Sha256 = "ABC" }] } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidDefinition_NoOperations_ErrorNamesTheField(string field, Func<ClusterDefinition, ClusterDefinition> change)
    {
        var inventory = Inventory();

        var plan = Plan(change(Definition()), inventory, Bare(inventory));

        Assert.Empty(plan.Operations);
        Assert.False(plan.IsConverged);
        Assert.Contains(plan.DefinitionErrors, e => e.Contains(field, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("PF2ABC12", "pf2abc12")]
    [InlineData("To be filled", "to-be-filled")]
    [InlineData("4c4c4544-0042", "4c4c4544-0042")]
    public void NodeName_FromSerial(string serial, string name) => Assert.Equal(name, NodeNames.FromSerial(serial));

    [Fact]
    public void Selector_MatchesRoleAndEveryLabel()
    {
        var selector = new NodeSelector("worker", new Dictionary<string, string> { ["rack"] = "a", ["gpu"] = "yes" });
        var node = Worker(1) with { Labels = new Dictionary<string, string> { ["rack"] = "a", ["gpu"] = "yes", ["x"] = "y" } };

        Assert.True(selector.Matches(node));
        Assert.False(selector.Matches(node with { Labels = new Dictionary<string, string> { ["rack"] = "a" } }));
        Assert.False(selector.Matches(node with { Role = "control-plane" }));
    }
}
