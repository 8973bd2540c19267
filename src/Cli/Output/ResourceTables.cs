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
