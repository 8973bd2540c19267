using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.KubeInstaller.Execution.Ssh;
using NekkoMetal.KubeInstaller.Model;
using NekkoMetal.KubeInstaller.Planning;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>
/// The Kubernetes API as the installer uses it: <c>curl</c> over SSH on a control-plane node with the admin
/// kubeconfig the installer wrote there (its CA, client certificate and key are extracted into a private temporary
/// directory for the one call and removed), against the server that kubeconfig names. Chosen over the KubernetesClient
/// package for the same reason etcd membership runs <c>etcdctl</c> on a member: the boot server needs no route to the
/// API and holds no admin credential; everything goes over the one SSH connection whose host key is pinned; no
/// kubectl on the nodes, only curl. This class renders the commands and parses the answers (pure, unit-tested);
/// <see cref="KubernetesApiOperations"/> runs them.
/// </summary>
public static class KubernetesApi
{
    /// <summary>The annotation the installer sets when it cordons a Node (and so may uncordon it).</summary>
    public const string CordonedAnnotation = "nekkometal.io/cordoned-by-installer";

    public const string AdminKubeconfig = NodeConfiguration.KubeconfigDir + "/admin.conf";

    /// <summary>
    /// A shell command that sends one request with the admin kubeconfig and prints the body, a newline and the HTTP
    /// status (<c>000</c> when nothing answered). Fails (exit 3) when the node has no admin kubeconfig.
    /// </summary>
    public static string Request(string method, string path, string? body = null, string contentType = "application/merge-patch+json")
    {
        ArgumentNullException.ThrowIfNull(path);
        var s = new StringBuilder();
        s.Append("k=").Append(AdminKubeconfig).Append("; [ -f \"$k\" ] || { echo \"no $k\" >&2; exit 3; }; ");
        s.Append("d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT; ");
        s.Append("g() { sed -n \"s/^ *$1: *\\\"\\{0,1\\}\\([^\\\"]*\\)\\\"\\{0,1\\} *$/\\1/p\" \"$k\" | head -1; }; ");
        s.Append("g certificate-authority-data | base64 -d > \"$d/ca\" && g client-certificate-data | base64 -d > \"$d/crt\" ");
        s.Append("&& g client-key-data | base64 -d > \"$d/key\" || exit 1; ");
        s.Append("curl -sS --max-time 10 --cacert \"$d/ca\" --cert \"$d/crt\" --key \"$d/key\" -X ").Append(ShellQuoting.Quote(method));
        if (body is not null)
        {
            s.Append(" -H ").Append(ShellQuoting.Quote("Content-Type: " + contentType)).Append(" --data-binary ").Append(ShellQuoting.Quote(body));
        }

        s.Append(" -w '\\n%{http_code}' \"$(g server)\"").Append(ShellQuoting.Quote(path));
        return s.ToString();
    }

    /// <summary>Splits what <see cref="Request"/> printed into the HTTP status and the body.</summary>
    public static (int Status, string Body) ParseResponse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var text = output.TrimEnd('\n', '\r');
        var cut = text.LastIndexOf('\n');
        var code = cut < 0 ? text : text[(cut + 1)..];
        return (int.TryParse(code.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : 0, cut < 0 ? "" : text[..cut]);
    }

    /// <summary>A NodeList → the planner's view of each Node (Ready condition, unschedulable, the installer's annotation, labels).</summary>
    public static IReadOnlyDictionary<string, ObservedKubeNode> ParseNodeList(string json)
    {
        var nodes = new Dictionary<string, ObservedKubeNode>(StringComparer.Ordinal);
        var items = JsonNode.Parse(json)?["items"]?.AsArray() ?? [];
        foreach (var item in items)
        {
            if (item?["metadata"]?["name"]?.GetValue<string>() is not { Length: > 0 } name)
            {
                continue;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in item["metadata"]?["labels"]?.AsObject() ?? [])
            {
                labels[k] = v?.GetValue<string>() ?? "";
            }

            var ready = (item["status"]?["conditions"]?.AsArray() ?? []).Any(c =>
                c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");
            var unschedulable = item["spec"]?["unschedulable"]?.GetValue<bool>() ?? false;
            var cordonedByInstaller = item["metadata"]?["annotations"]?[CordonedAnnotation] is not null;
            nodes[name] = new ObservedKubeNode(name, ready, unschedulable, cordonedByInstaller, labels);
        }

        return nodes;
    }

    /// <summary>
    /// The pods a drain evicts, as <c>kubectl drain --ignore-daemonsets</c>: not DaemonSet pods (their controller
    /// would put them back), not mirror pods of static manifests (the kubelet owns them), not pods already finished.
    /// </summary>
    public static IReadOnlyList<(string Namespace, string Name)> PodsToEvict(string podListJson)
    {
        var list = new List<(string, string)>();
        foreach (var pod in JsonNode.Parse(podListJson)?["items"]?.AsArray() ?? [])
        {
            var meta = pod?["metadata"];
            if (meta?["name"]?.GetValue<string>() is not { } name)
            {
                continue;
            }

            var daemonSet = (meta["ownerReferences"]?.AsArray() ?? []).Any(o => o?["kind"]?.GetValue<string>() == "DaemonSet");
            var mirror = meta["annotations"]?["kubernetes.io/config.mirror"] is not null;
            var finished = pod!["status"]?["phase"]?.GetValue<string>() is "Succeeded" or "Failed";
            if (!daemonSet && !mirror && !finished)
            {
                list.Add((meta["namespace"]?.GetValue<string>() ?? "default", name));
            }
        }

        return list;
    }

    public static string CordonPatch() => new JsonObject
    {
        ["spec"] = new JsonObject { ["unschedulable"] = true },
        ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [CordonedAnnotation] = "true" } },
    }.ToJsonString();

    /// <summary>Clears <c>spec.unschedulable</c> and the installer's annotation (JSON merge patch: null removes).</summary>
    public static string UncordonPatch() => new JsonObject
    {
        ["spec"] = new JsonObject { ["unschedulable"] = null },
        ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [CordonedAnnotation] = null } },
    }.ToJsonString();

    /// <summary><c>key=value,key2=value2</c> (the operation's <c>labels</c> parameter) as a merge patch.</summary>
    public static string LabelPatch(string labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var map = new JsonObject();
        foreach (var pair in labels.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            map[eq < 0 ? pair : pair[..eq]] = eq < 0 ? "" : pair[(eq + 1)..];
        }

        return new JsonObject { ["metadata"] = new JsonObject { ["labels"] = map } }.ToJsonString();
    }

    public static string Eviction(string ns, string name) => new JsonObject
    {
        ["apiVersion"] = "policy/v1",
        ["kind"] = "Eviction",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
    }.ToJsonString();

    public static string NodePath(string name) => "/api/v1/nodes/" + Uri.EscapeDataString(name);

    public static string PodsOnNodePath(string name) => "/api/v1/pods?fieldSelector=" + Uri.EscapeDataString("spec.nodeName=" + name);

    public static string EvictionPath(string ns, string name) =>
        $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods/{Uri.EscapeDataString(name)}/eviction";

    /// <summary>The message of a Kubernetes <c>Status</c> body, or the body itself cut short.</summary>
    public static string Message(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["message"]?.GetValue<string>() is { } message)
            {
                return message;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 300 ? body[..300] : body;
    }
}
