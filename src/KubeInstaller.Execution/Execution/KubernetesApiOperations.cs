using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;
using P = NekkoMetal.KubeInstaller.Planning.OperationParameters;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>
/// Carries out the Kubernetes API operations (cordon, drain, uncordon, label, delete Node) through
/// <see cref="KubernetesApi"/> on the first control-plane node, by name, whose API server answers <c>/readyz</c>
/// with its admin kubeconfig. Idempotent: a Node already gone counts as cordoned, drained, uncordoned and deleted;
/// a pod already gone counts as evicted.
/// </summary>
public sealed class KubernetesApiOperations(NodeConnectionPool connections, ExecutorOptions options, TimeProvider time)
{
    /// <summary>How long a drain waits for evictions a PodDisruptionBudget holds back, and for evicted pods to go.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public async Task RunAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(op);
        var name = op.Nodes.Length == 1 ? op.Nodes[0] : throw new OperationFailedException($"{op.Description}: expected one node");
        var via = await ApiNodeAsync(op, inventory, ct);
        switch (op.Kind)
        {
            case OperationKind.CordonNode:
                await SendAsync(op, via, "PATCH", KubernetesApi.NodePath(name), KubernetesApi.CordonPatch(), goneIsDone: true, ct);
                break;
            case OperationKind.UncordonNode:
                await SendAsync(op, via, "PATCH", KubernetesApi.NodePath(name), KubernetesApi.UncordonPatch(), goneIsDone: true, ct);
                break;
            case OperationKind.LabelNode:
                await SendAsync(op, via, "PATCH", KubernetesApi.NodePath(name),
                    KubernetesApi.LabelPatch(op[P.Labels] ?? throw new OperationFailedException($"{op.Description}: parameter 'labels' missing")), goneIsDone: false, ct);
                break;
            case OperationKind.DeleteNode:
                await SendAsync(op, via, "DELETE", KubernetesApi.NodePath(name), null, goneIsDone: true, ct);
                break;
            case OperationKind.DrainNode:
                await DrainAsync(op, via, name, ct);
                break;
            default:
                throw new OperationFailedException($"{op.Description}: {op.Kind} is not a Kubernetes API operation");
        }
    }

    /// <summary>A control-plane node (first by name) with the admin kubeconfig whose API server is ready.</summary>
    private async Task<NodeConnection> ApiNodeAsync(ClusterOperation op, IReadOnlyList<InventoryNode> inventory, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var candidate in inventory.Where(n => !n.IsLeaving).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            try
            {
                var node = await connections.GetAsync(candidate, ct);
                var r = await node.RunAsync(KubernetesApi.Request("GET", "/readyz"), TimeSpan.FromSeconds(15), ct);
                if (r.ExitCode == 3)
                {
                    continue; // no admin kubeconfig: not a control-plane node
                }

                var (status, body) = KubernetesApi.ParseResponse(r.Output);
                if (status == 200)
                {
                    return node;
                }

                problems.Add($"{candidate.Name}: /readyz {status} {body.Trim()} {r.Error.Trim()}".TrimEnd());
            }
            catch (KubeExecutionException e)
            {
                problems.Add(e.Message);
            }
        }

        throw new OperationFailedException(
            $"{op.Description}: no control-plane node with a ready API server ({(problems.Count == 0 ? "none has the admin kubeconfig" : string.Join("; ", problems))})",
            transient: true);
    }

    private static async Task<(int Status, string Body)> CallAsync(NodeConnection via, string method, string path, string? body, CancellationToken ct)
    {
        var r = await via.RunAsync(KubernetesApi.Request(method, path, body), TimeSpan.FromSeconds(20), ct);
        return KubernetesApi.ParseResponse(r.Output);
    }

    private static async Task SendAsync(ClusterOperation op, NodeConnection via, string method, string path, string? body, bool goneIsDone, CancellationToken ct)
    {
        var (status, answer) = await CallAsync(via, method, path, body, ct);
        if (status is >= 200 and < 300 || (goneIsDone && status == 404))
        {
            return;
        }

        throw new OperationFailedException($"{op.Description}: {method} {path} answered {status}: {KubernetesApi.Message(answer)}", transient: status is 0 or 429 or >= 500);
    }

    /// <summary>Evicts the Node's pods (the Eviction API, so PodDisruptionBudgets hold evictions back) until none is left or the drain timeout.</summary>
    private async Task DrainAsync(ClusterOperation op, NodeConnection via, string name, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + DrainTimeout;
        while (true)
        {
            var (status, list) = await CallAsync(via, "GET", KubernetesApi.PodsOnNodePath(name), null, ct);
            if (status != 200)
            {
                throw new OperationFailedException($"{op.Description}: listing pods answered {status}: {KubernetesApi.Message(list)}", transient: true);
            }

            var pods = KubernetesApi.PodsToEvict(list);
            if (pods.Count == 0)
            {
                return;
            }

            var held = new List<string>();
            foreach (var (ns, pod) in pods)
            {
                var (code, answer) = await CallAsync(via, "POST", KubernetesApi.EvictionPath(ns, pod), KubernetesApi.Eviction(ns, pod), ct);
                if (code == 429)
                {
                    held.Add($"{ns}/{pod}: {KubernetesApi.Message(answer)}"); // a PodDisruptionBudget: try again later
                }
                else if (code is not (>= 200 and < 300) and not 404)
                {
                    throw new OperationFailedException($"{op.Description}: evicting {ns}/{pod} answered {code}: {KubernetesApi.Message(answer)}", transient: code is 0 or >= 500);
                }
            }

            if (time.GetUtcNow() >= deadline)
            {
                throw new OperationFailedException(
                    $"{op.Description}: {pods.Count} pod(s) still on the node after {DrainTimeout.TotalSeconds:0} s{(held.Count > 0 ? "; held back: " + string.Join("; ", held) : "")}",
                    transient: true);
            }

            await Task.Delay(options.HealthPollInterval * 2, time, ct);
        }
    }
}
