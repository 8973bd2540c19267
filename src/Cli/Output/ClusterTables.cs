using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>Renderings of <c>/api/v1/cluster</c>: the definition, the installer's status, its history.</summary>
internal static class ClusterTables
{
    public static void WriteDefinition(TextWriter writer, JsonNode? d)
    {
        Line(writer, $"cluster {S(d?["name"])}: kubernetes {S(d?["kubernetesVersion"])}, etcd {S(d?["etcdVersion"])}, containerd {S(d?["containerRuntimeVersion"])}");
        Line(writer, $"control plane: {S(d?["controlPlaneCount"])} node(s) selected by {Selector(d?["controlPlaneSelector"])}; runs kubelet: {(d?["controlPlaneRunsKubelet"]?.GetValue<bool>() == false ? "no" : "yes")}");
        Line(writer, $"workers: selected by {Selector(d?["workerSelector"])}");
        Line(writer, $"pods {S(d?["podCidr"])}, services {S(d?["serviceCidr"])}, DNS domain {S(d?["dnsDomain"])}, API endpoint {(d?["controlPlaneEndpoint"] is { } e ? S(e) : "the first control-plane node")}");
        if (d?["extraFlags"] is JsonObject flags && flags.Count > 0)
        {
            foreach (var (component, list) in flags.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                Line(writer, $"extra flags of {component}: {string.Join(' ', Items(list).Select(S))}");
            }
        }

        writer.WriteLine();
        var table = new TextTable("COMPONENT", "VERSION", "ASSET", "SHA256");
        foreach (var pin in Items(d?["binaries"]))
        {
            table.AddRow(S(pin?["component"]), S(pin?["version"]), S(pin?["assetName"]), S(pin?["sha256"]));
        }

        table.Write(writer);
    }

    public static void WriteStatus(TextWriter writer, JsonNode? s)
    {
        if (s?["defined"]?.GetValue<bool>() == true)
        {
            var converged = s["converged"] is { } c ? (c.GetValue<bool>() ? "converged" : "not converged") : "state unknown here";
            var phase = s["phase"] is { } p ? $"phase {S(p)}" : "no work planned";
            Line(writer, $"cluster {S(s["clusterName"])} (kubernetes {S(s["kubernetesVersion"])}, etcd {S(s["etcdVersion"])}): {converged}, {phase}");
        }
        else
        {
            writer.WriteLine("no cluster defined ('nekkoctl cluster set -f FILE')");
        }

        var installer = s?["installerEnabled"]?.GetValue<bool>() != true
            ? $"off on this boot server ({S(s?["installerDisabledReason"])})"
            : s?["leader"]?.GetValue<bool>() == true ? "on; this boot server leads" : $"on; leader: {S(s?["leaderId"])}";
        Line(writer, $"installer: {installer}");
        if (s?["observedAt"] is { } at)
        {
            Line(writer, $"observed: {JsonText.Time(at)}; API server ready: {(s["apiServerReady"]?.GetValue<bool>() == true ? "yes" : "no")}");
        }

        var nodes = Items(s?["nodes"]).ToList();
        if (nodes.Count > 0)
        {
            writer.WriteLine();
            var table = new TextTable("NODE", "SERIAL", "ADDRESS", "ROLE", "MACHINE", "REACHABLE", "COMPONENT", "UNIT", "HEALTHY", "VERSION", "WANTED");
            foreach (var n in nodes)
            {
                var components = Items(n?["components"]).ToList();
                string[] head = [S(n?["name"]), S(n?["serial"]), S(n?["address"]), S(n?["role"]), S(n?["machineState"]), Bool(n?["reachable"])];
                if (components.Count == 0)
                {
                    table.AddRow([.. head, JsonText.None, JsonText.None, JsonText.None, JsonText.None, JsonText.None]);
                }

                foreach (var c in components)
                {
                    table.AddRow([.. head, S(c?["component"]), S(c?["state"]), Bool(c?["healthy"]), S(c?["version"]), S(c?["desiredVersion"])]);
                }
            }

            table.Write(writer);
        }

        var members = Items(s?["etcdMembers"]).ToList();
        if (members.Count > 0)
        {
            writer.WriteLine();
            var table = new TextTable("ETCD MEMBER", "ID", "PEER URL", "LEARNER", "HEALTHY");
            foreach (var m in members)
            {
                table.AddRow(S(m?["name"]), S(m?["id"]), S(m?["peerUrl"]), Bool(m?["learner"]), Bool(m?["healthy"]));
            }

            table.Write(writer);
        }

        List(writer, "held back", s?["blockers"]);
        List(writer, "definition errors", s?["definitionErrors"]);
        var next = Items(s?["nextOperations"]).ToList();
        if (next.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("next operations:");
            foreach (var op in next)
            {
                Line(writer, "  " + S(op?["description"]));
            }
        }

        writer.WriteLine();
        Line(writer, s?["lastOperation"] is { } last
            ? $"last operation: {JsonText.Time(last["finishedAt"])} {S(last["description"])}: {S(last["outcome"])}"
            : "last operation: none");
        Line(writer, s?["lastBackup"] is { } backup
            ? $"last etcd backup: {JsonText.Time(backup["takenAt"])} {S(backup["name"])} (for kubernetes {S(backup["kubernetesVersion"])}, etcd {S(backup["etcdVersion"])})"
            : "last etcd backup: none");
        var errors = Items(s?["recentErrors"]).ToList();
        if (errors.Count > 0)
        {
            writer.WriteLine("recent errors:");
            foreach (var e in errors)
            {
                Line(writer, $"  {JsonText.Time(e?["finishedAt"])} {S(e?["description"])}: {S(e?["error"])}");
            }
        }

        if (s?["note"] is { } note)
        {
            Line(writer, $"({S(note)})");
        }
    }

    public static void WriteHistory(TextWriter writer, JsonNode? records)
    {
        var table = new TextTable("FINISHED", "PHASE", "KIND", "NODES", "OUTCOME", "DESCRIPTION", "ERROR");
        foreach (var r in Items(records))
        {
            table.AddRow(JsonText.Time(r?["finishedAt"]), S(r?["phase"]), S(r?["kind"]), JsonText.List(r?["nodes"]), S(r?["outcome"]), S(r?["description"]), S(r?["error"]));
        }

        table.Write(writer);
    }

    private static string S(JsonNode? node) => JsonText.Scalar(node);

    private static string Bool(JsonNode? node) => node is null ? JsonText.None : node.GetValue<bool>() ? "yes" : "no";

    private static string Selector(JsonNode? selector)
    {
        var role = selector?["role"] is { } r ? "role " + S(r) : "any role";
        return selector?["labels"] is JsonObject { Count: > 0 } labels ? $"{role}, labels {JsonText.Labels(labels)}" : role;
    }

    private static void Line(TextWriter writer, string text) => writer.WriteLine(TerminalText.Clean(text));

    private static void List(TextWriter writer, string title, JsonNode? items)
    {
        var list = Items(items).ToList();
        if (list.Count == 0)
        {
            return;
        }

        writer.WriteLine();
        writer.WriteLine(title + ":");
        foreach (var item in list)
        {
            Line(writer, "  " + S(item));
        }
    }

    private static JsonArray Items(JsonNode? node) => node as JsonArray ?? [];
}
