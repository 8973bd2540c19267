using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.KubeInstaller.Planning;

internal sealed partial class PlanningRun
{
    /// <summary>
    /// etcd, in this order, each step returning alone: bootstrap; repair one member that is down; promote a caught-up
    /// learner; add one missing member as a learner (a dead departed voter is removed first: etcd adds no member
    /// while a voter is down); remove one departed member once its replacement votes and quorum allows; roll one running member whose binary or unit differs.
    /// </summary>
    private List<ClusterOperation> PlanEtcd(Operations ops)
    {
        var members = observed.EtcdMembers;
        if (members.Count == 0)
        {
            return BootstrapOrRecover(ops);
        }

        var byNode = new Dictionary<string, EtcdMember>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            if (topology.NodeOf(member) is { } node)
            {
                byNode.TryAdd(node.Name, member);
            }
        }

        var voting = members.Where(m => !m.IsLearner).ToList();
        var healthyVoting = voting.Count(m => m.Healthy);

        // 1. repair: a desired member whose etcd is not running (or was added and never started)
        foreach (var node in topology.ControlPlane.Where(n => byNode.ContainsKey(n.Name)))
        {
            if (Reachable(node) is not { } probe)
            {
                if (!byNode[node.Name].Healthy)
                {
                    Block($"{node.Name}: etcd member unhealthy and node unreachable");
                }

                continue;
            }

            var status = Status(node, probe, ClusterComponent.Etcd);
            if (status.Active || status.Outdated)
            {
                continue;
            }

            var list = IssueCredentials(ops, node, probe, NodeConfiguration.EtcdCredentials(node));
            if (status.BinaryMismatch)
            {
                list.Add(ops.WriteBinary(node, status.Pin));
            }

            if (!probe.EtcdDataPresent)
            {
                list.Add(ops.WriteEtcdInitialCluster(node, "existing", InitialCluster(members, node)));
            }

            if (status.UnitMismatch)
            {
                list.Add(ops.WriteUnit(node, ClusterComponent.Etcd, status.UnitContent));
            }

            list.Add(status.State == UnitState.Failed ? ops.RestartUnit(node, ClusterComponent.Etcd) : ops.StartUnit(node, ClusterComponent.Etcd));
            list.Add(ops.WaitHealthy(node, ClusterComponent.Etcd));
            return list;
        }

        // 2. promote a learner of a desired node once it has caught up
        var desiredLearners = members.Where(m => m.IsLearner && topology.NodeOf(m) is { } n && topology.IsControlPlane(n)).ToList();
        foreach (var learner in desiredLearners.OrderBy(MemberName, StringComparer.Ordinal))
        {
            if (!learner.Healthy)
            {
                Block($"etcd: learner {MemberName(learner)} has not caught up");
                continue;
            }

            if (healthyVoting + 1 < ClusterPlanner.Quorum(voting.Count + 1))
            {
                Block($"etcd: promoting {MemberName(learner)} would leave {healthyVoting + 1} healthy of {voting.Count + 1} voters, below quorum");
                continue;
            }

            return [ops.PromoteEtcdMember(learner, MemberName(learner))];
        }

        // 3. add one missing member, as a learner (etcd allows one learner at a time)
        var missing = topology.ControlPlane.Where(n => !byNode.ContainsKey(n.Name)).ToList();
        if (missing.Count > 0 && desiredLearners.Count == 0 && DeadDepartedVoter(voting, missing) is { } dead)
        {
            // etcd refuses to add any member, even a learner, while a voter is down ("etcdserver: unhealthy
            // cluster", --strict-reconfig-check): a dead departed member goes first, as etcd's own runbook does
            return [ops.RemoveEtcdMember(dead, MemberName(dead))];
        }

        if (missing.Count > 0 && desiredLearners.Count == 0)
        {
            if (healthyVoting < ClusterPlanner.Quorum(voting.Count))
            {
                Block($"etcd: {healthyVoting} healthy of {voting.Count} voters, no quorum; not adding members");
            }
            else
            {
                foreach (var node in missing)
                {
                    if (Reachable(node) is not { } probe)
                    {
                        Block($"{node.Name}: unreachable; not added to etcd");
                        continue;
                    }

                    var status = Status(node, probe, ClusterComponent.Etcd);
                    var list = IssueCredentials(ops, node, probe, NodeConfiguration.EtcdCredentials(node));
                    if (status.BinaryMismatch)
                    {
                        list.Add(ops.WriteBinary(node, status.Pin));
                    }

                    list.Add(ops.AddEtcdLearner(node));
                    list.Add(ops.WriteEtcdInitialCluster(node, "existing", InitialCluster(members, node)));
                    if (status.UnitMismatch)
                    {
                        list.Add(ops.WriteUnit(node, ClusterComponent.Etcd, status.UnitContent));
                    }

                    list.Add(status.State == UnitState.Active ? ops.RestartUnit(node, ClusterComponent.Etcd) : ops.StartUnit(node, ClusterComponent.Etcd));
                    list.Add(ops.WaitHealthy(node, ClusterComponent.Etcd));
                    return list;
                }
            }
        }

        // 4. remove one departed member, only after its replacement votes, never below quorum
        var departed = members.Where(m => topology.NodeOf(m) is not { } n || !topology.IsControlPlane(n))
            .OrderBy(MemberName, StringComparer.Ordinal).FirstOrDefault();
        if (departed is not null)
        {
            if (RemovalProblem(departed, voting, byNode) is { } problem)
            {
                Block($"etcd: keeping member {MemberName(departed)}: {problem}");
            }
            else
            {
                return [ops.RemoveEtcdMember(departed, MemberName(departed))];
            }
        }

        // 5. configuration or binary drift of running members (same version), one member at a time
        foreach (var node in topology.ControlPlane.Where(n => byNode.TryGetValue(n.Name, out var m) && !m.IsLearner))
        {
            if (Reachable(node) is not { } probe)
            {
                continue;
            }

            var status = Status(node, probe, ClusterComponent.Etcd);
            if (status.Outdated || !status.NeedsWork)
            {
                continue;
            }

            if (UnhealthyEtcdMembers(except: byNode[node.Name]) is { Count: > 0 } unhealthy)
            {
                Block($"{node.Name}: etcd restart held back; member(s) unhealthy: {string.Join(", ", unhealthy)}");
                return [];
            }

            return Converge(ops, node, [status]);
        }

        return [];
    }

    /// <summary>
    /// A departed voting member that is down while a replacement waits to join and every other voter is healthy:
    /// etcd will not add the replacement while it is a member, and removing it changes no healthy voter's vote (the
    /// cluster tolerates as many failures with n − 1 healthy voters as with n voters of which one is dead).
    /// </summary>
    private EtcdMember? DeadDepartedVoter(List<EtcdMember> voting, List<InventoryNode> missing)
    {
        if (voting.Count <= 1 || !missing.Any(n => Reachable(n) is not null))
        {
            return null;
        }

        var dead = voting.Where(m => !m.Healthy).ToList();
        if (dead is not [var only] || topology.NodeOf(only) is { } node && topology.IsControlPlane(node))
        {
            return null;
        }

        var healthy = voting.Count - 1;
        return healthy >= ClusterPlanner.Quorum(voting.Count) && healthy >= ClusterPlanner.Quorum(voting.Count - 1) ? only : null;
    }

    /// <summary>Why a voting member may not be removed now, or null when it may.</summary>
    private string? RemovalProblem(EtcdMember departed, List<EtcdMember> voting, Dictionary<string, EtcdMember> byNode)
    {
        if (departed.IsLearner)
        {
            return null; // learners do not vote: removing one never touches quorum
        }

        if (topology.ControlPlane.Count < definition.ControlPlaneCount)
        {
            return "no replacement control-plane node is available";
        }

        var notReady = topology.ControlPlane
            .Where(n => !byNode.TryGetValue(n.Name, out var m) || m.IsLearner || !m.Healthy)
            .Select(n => n.Name).ToList();
        if (notReady.Count > 0)
        {
            return $"replacement not yet a healthy voting member: {string.Join(", ", notReady)}";
        }

        if (voting.Count <= 1)
        {
            return "it is the last voting member";
        }

        var unhealthyOthers = voting.Where(m => m != departed && !m.Healthy).Select(MemberName).Order(StringComparer.Ordinal).ToList();
        if (unhealthyOthers.Count > 0)
        {
            return $"other member(s) unhealthy: {string.Join(", ", unhealthyOthers)}";
        }

        // the removal must commit (quorum of the current size) and leave a cluster with quorum
        var healthy = voting.Count(m => m.Healthy);
        if (healthy < ClusterPlanner.Quorum(voting.Count))
        {
            return $"{healthy} healthy of {voting.Count} voters cannot commit the removal";
        }

        var remaining = voting.Count(m => m != departed && m.Healthy);
        if (remaining < ClusterPlanner.Quorum(voting.Count - 1))
        {
            return $"{remaining} healthy of {voting.Count - 1} voters would remain, below quorum";
        }

        return null;
    }

    /// <summary>The <c>--initial-cluster</c> of a member joining: the started members and itself.</summary>
    private static string InitialCluster(IReadOnlyList<EtcdMember> members, InventoryNode joining)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [joining.Name] = NodeConfiguration.PeerUrl(joining),
        };
        foreach (var member in members.Where(m => m.Name.Length > 0))
        {
            entries.TryAdd(member.Name, member.PeerUrl);
        }

        return string.Join(',', entries.Select(e => $"{e.Key}={e.Value}"));
    }

    /// <summary>
    /// No member list: bootstrap a new cluster with every desired control-plane node at once. When some nodes
    /// already hold etcd data, never bootstrap over them: start those that are stopped, and, when all data is on
    /// desired control-plane nodes (a bootstrap that was interrupted), start the others into the same initial cluster.
    /// </summary>
    private List<ClusterOperation> BootstrapOrRecover(Operations ops)
    {
        var withData = topology.Inventory.Where(n => Reachable(n)?.EtcdDataPresent == true).ToList();
        if (topology.ControlPlane.Count == 0)
        {
            if (withData.Count > 0)
            {
                Block($"etcd: no member list, but {string.Join(", ", withData.Select(n => n.Name))} hold etcd data; not bootstrapping");
            }
            else
            {
                Block("etcd: no healthy machine matches the control-plane selector; nothing to bootstrap");
            }

            return [];
        }

        var initialCluster = string.Join(',', topology.ControlPlane.Select(n => $"{n.Name}={NodeConfiguration.PeerUrl(n)}"));
        if (withData.Count > 0)
        {
            var list = new List<ClusterOperation>();
            var started = new List<InventoryNode>();
            foreach (var node in withData.Where(topology.IsControlPlane))
            {
                var status = Status(node, Reachable(node)!, ClusterComponent.Etcd);
                if (!status.Active)
                {
                    list.Add(status.State == UnitState.Failed ? ops.RestartUnit(node, ClusterComponent.Etcd) : ops.StartUnit(node, ClusterComponent.Etcd));
                    started.Add(node);
                }
            }

            if (withData.All(topology.IsControlPlane))
            {
                foreach (var node in topology.ControlPlane.Where(n => Reachable(n) is { EtcdDataPresent: false }))
                {
                    list.AddRange(BootstrapMember(ops, node, initialCluster));
                    started.Add(node);
                }
            }

            if (list.Count == 0)
            {
                Block($"etcd: no member list, but {string.Join(", ", withData.Select(n => n.Name))} hold etcd data; not bootstrapping");
            }

            list.AddRange(started.OrderBy(n => n.Name, StringComparer.Ordinal).Select(n => ops.WaitHealthy(n, ClusterComponent.Etcd)));
            return list;
        }

        var unreachable = topology.ControlPlane.Where(n => Reachable(n) is null).Select(n => n.Name).ToList();
        if (unreachable.Count > 0)
        {
            Block($"etcd: bootstrap waits for {string.Join(", ", unreachable)} to be reachable");
            return [];
        }

        var bootstrap = topology.ControlPlane.SelectMany(n => BootstrapMember(ops, n, initialCluster)).ToList();
        bootstrap.AddRange(topology.ControlPlane.Select(n => ops.WaitHealthy(n, ClusterComponent.Etcd)));
        return bootstrap;
    }

    /// <summary>Certificates, binary, initial cluster (new), unit and start of one initial member.</summary>
    private List<ClusterOperation> BootstrapMember(Operations ops, InventoryNode node, string initialCluster)
    {
        var probe = Reachable(node)!;
        var status = Status(node, probe, ClusterComponent.Etcd);
        var list = IssueCredentials(ops, node, probe, NodeConfiguration.EtcdCredentials(node));
        if (status.BinaryMismatch)
        {
            list.Add(ops.WriteBinary(node, status.Pin));
        }

        list.Add(ops.WriteEtcdInitialCluster(node, "new", initialCluster));
        if (status.UnitMismatch)
        {
            list.Add(ops.WriteUnit(node, ClusterComponent.Etcd, status.UnitContent));
        }

        list.Add(status.State == UnitState.Active ? ops.RestartUnit(node, ClusterComponent.Etcd) : ops.StartUnit(node, ClusterComponent.Etcd));
        return list;
    }
}
