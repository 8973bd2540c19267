using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace NekkoMetal.Cli.Syntax;

/// <summary>
/// One <c>--subnet NAME=CIDR[,range=START-END][,gateway=IP][,dns=IP;IP]</c> of <c>ipam set</c>.
/// Addresses are checked for syntax only; whether they fit together is the server's rule.
/// </summary>
internal sealed record SubnetSpec(
    string Name,
    string Cidr,
    string? RangeStart,
    string? RangeEnd,
    string? Gateway,
    IReadOnlyList<string>? Dns)
{
    public const string Syntax = "NAME=CIDR[,range=START-END][,gateway=IP][,dns=IP;IP]";

    public static bool TryParse(string text, out SubnetSpec? subnet, out string error)
    {
        subnet = null;
        var parts = text.Split(',');
        var head = parts[0].Split('=', 2);
        if (head.Length != 2 || head[0].Length == 0 || head[1].Length == 0)
        {
            return Fail(text, "expected NAME=CIDR first", out error);
        }

        var (name, cidr) = (head[0], head[1]);
        if (!IsCidr(cidr))
        {
            return Fail(text, $"\"{cidr}\" is not an address/prefix-length", out error);
        }

        string? rangeStart = null, rangeEnd = null, gateway = null;
        List<string>? dns = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in parts.Skip(1))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || pair[1].Length == 0)
            {
                return Fail(text, $"expected KEY=VALUE, got \"{part}\"", out error);
            }

            var (key, value) = (pair[0], pair[1]);
            if (!seen.Add(key))
            {
                return Fail(text, $"\"{key}\" given twice", out error);
            }

            switch (key)
            {
                case "range":
                    var bounds = value.Split('-');
                    if (bounds.Length != 2 || !IsAddress(bounds[0]) || !IsAddress(bounds[1]))
                    {
                        return Fail(text, $"range \"{value}\" is not START-END", out error);
                    }

                    (rangeStart, rangeEnd) = (bounds[0], bounds[1]);
                    break;
                case "gateway":
                    if (!IsAddress(value))
                    {
                        return Fail(text, $"gateway \"{value}\" is not an IP address", out error);
                    }

                    gateway = value;
                    break;
                case "dns":
                    dns = [.. value.Split(';')];
                    if (dns.FirstOrDefault(server => !IsAddress(server)) is { } bad)
                    {
                        return Fail(text, $"dns server \"{bad}\" is not an IP address", out error);
                    }

                    break;
                default:
                    return Fail(text, $"unknown key \"{key}\" (expected range, gateway or dns)", out error);
            }
        }

        subnet = new SubnetSpec(name, cidr, rangeStart, rangeEnd, gateway, dns);
        error = "";
        return true;
    }

    /// <summary>The subnet as the API's JSON; absent parts are left out.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["name"] = Name, ["cidr"] = Cidr };
        if (RangeStart is not null)
        {
            json["rangeStart"] = RangeStart;
            json["rangeEnd"] = RangeEnd;
        }

        if (Gateway is not null)
        {
            json["gateway"] = Gateway;
        }

        if (Dns is not null)
        {
            json["dns"] = new JsonArray([.. Dns.Select(server => (JsonNode)server)]);
        }

        return json;
    }

    private static bool IsAddress(string text) => IPAddress.TryParse(text, out _) && !text.Contains('/', StringComparison.Ordinal);

    private static bool IsCidr(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            && IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            && int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            && prefix <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
    }

    private static bool Fail(string text, string reason, out string error)
    {
        error = $"invalid subnet \"{text}\": {reason}; expected {Syntax}";
        return false;
    }
}
