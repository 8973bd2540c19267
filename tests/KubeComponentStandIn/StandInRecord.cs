using System.Text.Json;
using System.Text.Json.Nodes;

namespace NekkoMetal.KubeComponentStandIn;

/// <summary>
/// What the double was given and what it found, written as JSON to
/// <c>/var/lib/nekko-standin/&lt;component&gt;.json</c> (directory: <c>NEKKO_STANDIN_RECORD_DIR</c>) at start and
/// whenever something new is learnt (an API client seen, the API reached). The end-to-end test reads it and checks
/// every flag, certificate and kubeconfig against what the real component needs.
/// </summary>
internal sealed class StandInRecord
{
    private readonly Lock _lock = new();
    private readonly JsonObject _root;
    private readonly JsonObject _files = [];
    private readonly JsonArray _checks = [];
    private readonly JsonObject _clients = [];
    private readonly JsonObject _status = [];
    private readonly string _path;

    public StandInRecord(string component, string version, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> flags)
    {
        var dir = Environment.GetEnvironmentVariable("NEKKO_STANDIN_RECORD_DIR") ?? "/var/lib/nekko-standin";
        _path = Path.Combine(dir, component + ".json");
        var flagObject = new JsonObject();
        foreach (var (k, v) in flags.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            flagObject[k] = v;
        }

        _root = new JsonObject
        {
            ["testDouble"] = "nekko-kube-standin: a stand-in for " + component + " in NekkoMetal's tests, NOT the real component",
            ["component"] = component,
            ["version"] = version,
            ["pid"] = Environment.ProcessId,
            ["startedAt"] = DateTimeOffset.UtcNow.ToString("O"),
            ["args"] = new JsonArray([.. args.Select(a => (JsonNode?)a)]),
            ["flags"] = flagObject,
            ["files"] = _files,
            ["checks"] = _checks,
            ["apiClients"] = _clients,
            ["status"] = _status,
        };
    }

    public string FilePath => _path;

    public void AddFile(string path, string role, JsonObject description)
    {
        lock (_lock)
        {
            description["role"] = role;
            _files[path] = description;
        }
    }

    public void Check(string passed)
    {
        lock (_lock)
        {
            _checks.Add((JsonNode?)JsonValue.Create(passed));
        }
    }

    /// <summary>An identity that authenticated to the stood-in apiserver; true when it is new (the record is rewritten).</summary>
    public bool Client(string user, IReadOnlyList<string> groups, string path)
    {
        lock (_lock)
        {
            if (_clients.ContainsKey(user))
            {
                return false;
            }

            _clients[user] = new JsonObject { ["groups"] = new JsonArray([.. groups.Select(g => (JsonNode?)g)]), ["firstPath"] = path, ["at"] = DateTimeOffset.UtcNow.ToString("O") };
            return true;
        }
    }

    public void Status(string key, string value)
    {
        lock (_lock)
        {
            _status[key] = value;
        }
    }

    public void Fatal(string message)
    {
        lock (_lock)
        {
            _root["fatal"] = message;
        }

        Write();
    }

    public void Write()
    {
        string text;
        lock (_lock)
        {
            text = _root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var tmp = _path + ".tmp" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, _path, overwrite: true);
    }
}
