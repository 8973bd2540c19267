using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Output;

/// <summary>Table renderings of the admin API's resources. Each accepts one object or an array of them.</summary>
internal static class ResourceTables
{
    public static void WriteMachines(TextWriter writer, JsonNode? machines)
    {
        var table = new TextTable("SERIAL", "ROLE", "STATE", "IPV4", "MACS", "LABELS", "UPDATED");
        foreach (var machine in Items(machines))
        {
            table.AddRow(
                JsonText.Scalar(machine?["serial"]),
                JsonText.Scalar(machine?["role"]),
                JsonText.Scalar(machine?["state"]),
                JsonText.List(machine?["ipv4"]),
                JsonText.List(machine?["macs"]),
                JsonText.Labels(machine?["labels"]),
                JsonText.Time(machine?["updatedAt"]));
        }

        table.Write(writer);
    }

    /// <summary><c>machines health</c>: a summary, then one row per check.</summary>
    public static void WriteMachineHealth(TextWriter writer, JsonNode? view)
    {
        var managed = view?["managed"]?.GetValue<bool>() == true ? "set by the state setter" : "not managed by the state setter";
        writer.WriteLine(TerminalText.Clean(
            $"machine {JsonText.Scalar(view?["serial"])}: {JsonText.Scalar(view?["state"])} since {JsonText.Time(view?["stateChangedAt"])} ({managed})"));
        writer.WriteLine(TerminalText.Clean(
            $"limits: unreachable after {JsonText.Scalar(view?["unreachableAfterSeconds"])} s without a heartbeat, unhealthy after {JsonText.Scalar(view?["unhealthyAfterSeconds"])} s of a failing critical check; leader: {JsonText.Scalar(view?["leader"])}"));
        var health = view?["health"];
        if (health is null)
        {
            writer.WriteLine("no heartbeat received");
            return;
        }

        writer.WriteLine(TerminalText.Clean(
            $"last heartbeat: {JsonText.Time(health["lastHeartbeatAt"])} via {JsonText.Scalar(health["receivedBy"])} (agent clock {JsonText.Time(health["reportedAt"])})"));
        var table = new TextTable("CHECK", "STATUS", "CRITICAL", "FAILING-SINCE", "MESSAGE");
        foreach (var check in Items(health["checks"]))
        {
            table.AddRow(
                JsonText.Scalar(check?["name"]),
                JsonText.Scalar(check?["status"]),
                check?["critical"]?.GetValue<bool>() == true ? "yes" : "no",
                JsonText.Time(check?["failingSince"]),
                JsonText.Scalar(check?["message"]));
        }

        table.Write(writer);
    }

    public static void WriteIpam(TextWriter writer, JsonNode? ipam)
    {
        var table = new TextTable("NAME", "CIDR", "RANGE", "GATEWAY", "DNS");
        foreach (var subnet in Items(ipam?["subnets"]))
        {
            var start = JsonText.String(subnet, "rangeStart");
            var end = JsonText.String(subnet, "rangeEnd");
            table.AddRow(
                JsonText.Scalar(subnet?["name"]),
                JsonText.Scalar(subnet?["cidr"]),
                start is null && end is null ? JsonText.None : $"{start}-{end}",
                JsonText.Scalar(subnet?["gateway"]),
                JsonText.List(subnet?["dns"]));
        }

        table.Write(writer);
    }

    public static void WriteAudit(TextWriter writer, JsonNode? entries)
    {
        var table = new TextTable("TIME", "ACTOR", "ACTION", "SERIAL", "SUMMARY");
        foreach (var entry in Items(entries))
        {
            table.AddRow(
                JsonText.Time(entry?["time"]),
                JsonText.Scalar(entry?["actor"]),
                JsonText.Scalar(entry?["action"]),
                JsonText.Scalar(entry?["serial"]),
                AuditSummary.Describe(entry));
        }

        table.Write(writer);
    }

    /// <summary>Replacements newest first, then what the leader holds back (only the leading boot server knows).</summary>
    public static void WriteReplacements(TextWriter writer, JsonNode? view)
    {
        var table = new TextTable("FAILED", "ROLE", "PHASE", "SPARE", "STARTED", "WAKE PACKETS", "COMPLETED");
        foreach (var r in Items(view?["replacements"]))
        {
            table.AddRow(
                JsonText.Scalar(r?["failed"]),
                JsonText.Scalar(r?["role"]),
                JsonText.Scalar(r?["phase"]),
                JsonText.Scalar(r?["spare"]),
                JsonText.Time(r?["startedAt"]),
                JsonText.Scalar(r?["wakePackets"]),
                JsonText.Time(r?["completedAt"]));
        }

        table.Write(writer);
        var held = Items(view?["held"]).ToList();
        if (held.Count > 0)
        {
            writer.WriteLine();
            var heldTable = new TextTable("HELD BACK", "WHY");
            foreach (var h in held)
            {
                heldTable.AddRow(JsonText.Scalar(h?["failed"]), JsonText.Scalar(h?["why"]));
            }

            heldTable.Write(writer);
        }
        else if (view?["leader"]?.GetValue<bool>() == false)
        {
            writer.WriteLine();
            writer.WriteLine("(this boot server does not lead the controllers: ask the leader what is held back)");
        }
    }

    public static void WriteTokens(TextWriter writer, JsonNode? tokens)
    {
        var table = new TextTable("NAME", "ROLE", "CREATED");
        foreach (var token in Items(tokens))
        {
            table.AddRow(
                JsonText.Scalar(token?["name"]),
                JsonText.Scalar(token?["role"]),
                JsonText.Time(token?["createdAt"]));
        }

        table.Write(writer);
    }

    private static IEnumerable<JsonNode?> Items(JsonNode? node)
    {
        if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                yield return item;
            }
        }
        else if (node is not null)
        {
            yield return node;
        }
    }
}
