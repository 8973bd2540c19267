using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>
/// The pure planner: definition + inventory + observation → the next batch of idempotent operations, from the
/// first phase that has work (see README.md for the phases and the safety rules). No I/O, no clock: the caller
/// passes <c>now</c> from its <see cref="TimeProvider"/>.
/// </summary>
public static class ClusterPlanner
{
    public static ClusterPlan Plan(
        ClusterDefinition definition,
        IReadOnlyList<InventoryNode> inventory,
        ObservedCluster observed,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(observed);

        var errors = ClusterDefinitionValidator.Validate(definition);
        if (errors.Count > 0)
        {
            return new ClusterPlan(null, [], [], errors);
        }

        var planning = new PlanningRun(definition, new ClusterTopology(definition, inventory, observed), observed, now);
        foreach (var phase in Enum.GetValues<ClusterPhase>())
        {
            var operations = planning.Run(phase);
            if (operations.Count > 0)
            {
                return new ClusterPlan(phase, operations, planning.Blockers, []);
            }

            if (phase == ClusterPhase.EtcdCluster && observed.EtcdMembers.Count == 0)
            {
                // without an etcd cluster nothing later can work: stop and say why
                return new ClusterPlan(null, [], planning.Blockers, []);
            }
        }

        return new ClusterPlan(null, [], planning.Blockers, []);
    }

    /// <summary>Votes needed for a decision in an etcd cluster of <paramref name="voters"/> voting members.</summary>
    public static int Quorum(int voters) => (voters / 2) + 1;
}
