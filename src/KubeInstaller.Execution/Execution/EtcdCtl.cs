using System.Globalization;
using System.Text.Json;
using NekkoMetal.KubeInstaller.Execution.Ssh;

namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>A member as <c>etcdctl member list -w json</c> prints it.</summary>
public sealed record EtcdctlMember(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner)
{
    public string HexId => Id.ToString("x", CultureInfo.InvariantCulture);
}

/// <summary>One endpoint of <c>etcdctl endpoint status -w json</c>.</summary>
public sealed record EtcdctlStatus(string Endpoint, ulong MemberId, ulong Leader, ulong RaftIndex, bool IsLearner, string Version);

/// <summary>
/// etcd administration as the installer does it: <c>etcdctl</c> (v3 API, Debian's etcd-client on the node) run over
/// SSH on a member, talking TLS to its local endpoint with the member's own server certificate (issued for
/// server and client use). Rendering and parsing are pure (unit-tested); nothing here opens a connection.
/// </summary>
public static class EtcdCtl
{
    public const string CaFile = "/etc/nekko/pki/etcd/ca.crt";
    public const string CertFile = "/etc/nekko/pki/etcd/server.crt";
    public const string KeyFile = "/etc/nekko/pki/etcd/server.key";
    public const string LocalEndpoint = "https://127.0.0.1:2379";

    /// <summary>An etcdctl command line against <paramref name="endpoints"/> (comma-separated) with the node's client certificate.</summary>
    public static string Command(string endpoints, params string[] args) =>
        "ETCDCTL_API=3 " + ShellQuoting.Join(
        [
            "etcdctl", "--endpoints=" + endpoints, "--cacert=" + CaFile, "--cert=" + CertFile, "--key=" + KeyFile,
            "--dial-timeout=2s", "--command-timeout=5s", .. args,
        ]);

    public static string Local(params string[] args) => Command(LocalEndpoint, args);

    public static IReadOnlyList<EtcdctlMember> ParseMemberList(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("members", out var members) ? [.. members.EnumerateArray().Select(ParseMember)] : [];
    }

    /// <summary>The member that <c>member add -w json</c> added.</summary>
    public static EtcdctlMember ParseAddedMember(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ParseMember(doc.RootElement.GetProperty("member"));
    }

    public static IReadOnlyList<EtcdctlStatus> ParseStatus(string json)
    {
        var list = new List<EtcdctlStatus>();
        foreach (var line in JsonValues(json))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var e in doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray().ToList() : [doc.RootElement])
            {
                var s = e.GetProperty("Status");
                list.Add(new EtcdctlStatus(
                    e.GetProperty("Endpoint").GetString() ?? "",
                    s.GetProperty("header").GetProperty("member_id").GetUInt64(),
                    U64(s, "leader"),
                    U64(s, "raftIndex"),
                    s.TryGetProperty("isLearner", out var l) && l.GetBoolean(),
                    s.TryGetProperty("version", out var v) ? v.GetString() ?? "" : ""));
            }
        }

        return list;
    }

    /// <summary>Endpoint → healthy, from <c>endpoint health -w json</c>.</summary>
    public static IReadOnlyDictionary<string, bool> ParseHealth(string json)
    {
        var map = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var line in JsonValues(json))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var e in doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray().ToList() : [doc.RootElement])
            {
                var endpoint = e.GetProperty("endpoint").GetString() ?? "";
                map[endpoint] = e.TryGetProperty("health", out var h) && h.ValueKind == JsonValueKind.True;
            }
        }

        return map;
    }

    /// <summary>Whether an etcd error says a learner has not caught up yet (promotion may be retried).</summary>
    public static bool IsLearnerNotReady(string output) =>
        output.Contains("not in sync", StringComparison.OrdinalIgnoreCase)
        || output.Contains("learner member which is in sync", StringComparison.OrdinalIgnoreCase)
        || output.Contains("not ready", StringComparison.OrdinalIgnoreCase);

    /// <summary>etcdctl prints one JSON value per line for some commands, one array for others; blank lines are skipped.</summary>
    private static IEnumerable<string> JsonValues(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('[') || l.StartsWith('{'));

    private static EtcdctlMember ParseMember(JsonElement m) => new(
        m.GetProperty("ID").GetUInt64(),
        m.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "",
        Strings(m, "peerURLs"),
        Strings(m, "clientURLs"),
        m.TryGetProperty("isLearner", out var l) && l.GetBoolean());

    private static string[] Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? [.. a.EnumerateArray().Select(x => x.GetString() ?? "")] : [];

    private static ulong U64(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetUInt64() : 0;
}
