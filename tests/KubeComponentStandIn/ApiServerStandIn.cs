using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace NekkoMetal.KubeComponentStandIn;

/// <summary>
/// The double's kube-apiserver: loads and checks every credential it is given, reaches etcd with its client
/// certificate (readiness = an etcd member answered <c>/health</c> over mutual TLS, as the real <c>/readyz</c>'s etcd
/// check), authenticates clients by certificate against <c>--client-ca-file</c> (CN = user, O = groups), and
/// serves a small in-memory Node API (list, get, create, merge-patch, delete; pods: none; eviction: not found) with
/// a rough RBAC and NodeRestriction, so kubelets can register and the installer's Nodes phase can run. Every
/// identity that authenticates is written to the record. Not Kubernetes: no watch, no storage in etcd, no
/// admission beyond NodeRestriction, one Node list per process.
/// </summary>
internal sealed class ApiServerStandIn
{
    private readonly StandInRecord _record;
    private readonly string _version;
    private readonly X509Certificate2 _clientCa;
    private readonly IReadOnlyList<string> _etcdServers;
    private readonly X509Certificate2 _etcdCa;
    private readonly X509Certificate2 _etcdClient;
    private readonly X509Certificate2 _kubeletClient;
    private readonly X509Certificate2? _kubeletCa;
    private readonly string[] _kubeletAddressTypes;
    private readonly ConcurrentDictionary<string, string> _kubeletsReached = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);
    private long _resourceVersion = 1;
    private volatile bool _etcdHealthy;

    public ApiServerStandIn(StandInRecord record, Credentials credentials, IReadOnlyDictionary<string, string> flags, string version)
    {
        _record = record;
        _version = version;
        _clientCa = credentials.Certificate(flags["client-ca-file"], "client CA");
        Serving = credentials.Pair(flags["tls-cert-file"], flags["tls-private-key-file"], "serving certificate");
        // the installer's convention: one Kubernetes CA signs the serving certificate and every client certificate
        credentials.MustChain(Serving, _clientCa, "--tls-cert-file", "--client-ca-file", Credentials.ServerAuthOid);

        _etcdCa = credentials.Certificate(flags["etcd-cafile"], "etcd CA");
        _etcdClient = credentials.Pair(flags["etcd-certfile"], flags["etcd-keyfile"], "etcd client certificate");
        credentials.MustChain(_etcdClient, _etcdCa, "--etcd-certfile", "--etcd-cafile", Credentials.ClientAuthOid);
        _etcdServers = [.. flags["etcd-servers"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        foreach (var server in _etcdServers)
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme != "https")
            {
                throw new StandInFatalException($"--etcd-servers: '{server}' is not an https URL (etcd serves TLS only)");
            }
        }

        // kubelets check this certificate against their --client-ca-file (the same Kubernetes CA)
        _kubeletClient = credentials.Pair(flags["kubelet-client-certificate"], flags["kubelet-client-key"], "kubelet client certificate");
        credentials.MustChain(_kubeletClient, _clientCa, "--kubelet-client-certificate", "--client-ca-file", Credentials.ClientAuthOid);
        _kubeletCa = flags.TryGetValue("kubelet-certificate-authority", out var kubeletCa) ? credentials.Certificate(kubeletCa, "kubelet CA") : null;
        // the real default; the first type a Node has is the address the apiserver dials for logs, exec and port-forward
        _kubeletAddressTypes = [.. flags.GetValueOrDefault("kubelet-preferred-address-types", "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP").Split(',')];

        using var signing = credentials.PrivateKey(flags["service-account-signing-key-file"], "service-account signing key");
        using var verifying = credentials.PublicOrPrivateKey(flags["service-account-key-file"], "service-account verification key");
        if (!Credentials.PublicKeyInfo(signing).AsSpan().SequenceEqual(Credentials.PublicKeyInfo(verifying)))
        {
            throw new StandInFatalException("--service-account-key-file does not hold the public half of --service-account-signing-key-file: tokens would not verify");
        }

        record.Check("service-account signing key and verification key are one pair");
        if (!Uri.TryCreate(flags["service-account-issuer"], UriKind.Absolute, out var issuer) || issuer.Scheme != "https")
        {
            throw new StandInFatalException($"--service-account-issuer '{flags["service-account-issuer"]}' must be an https URL");
        }

        if (!IPNetwork.TryParse(flags["service-cluster-ip-range"], out _))
        {
            throw new StandInFatalException($"--service-cluster-ip-range '{flags["service-cluster-ip-range"]}' is not a CIDR");
        }

        if (flags.TryGetValue("advertise-address", out var advertise) && !IPAddress.TryParse(advertise, out _))
        {
            throw new StandInFatalException($"--advertise-address '{advertise}' is not an IP address");
        }

        Port = flags.TryGetValue("secure-port", out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : 6443;
        record.Status("etcd", "not checked yet");
    }

    public X509Certificate2 Serving { get; }

    public StandInPlan Plan() =>
        new([new Listener(new IPEndPoint(IPAddress.Any, Port), null, Serving, ValidateClient, false, HandleAsync)], [WatchEtcdAsync, DialKubeletsAsync]);

    /// <summary>
    /// Dials every registered Node's kubelet as the real apiserver does for logs, exec and port-forward: the Node's
    /// first address of the <c>--kubelet-preferred-address-types</c>, port 10250, the <c>--kubelet-client-certificate</c>
    /// presented, the kubelet's serving certificate verified against <c>--kubelet-certificate-authority</c> when given.
    /// </summary>
    private async Task DialKubeletsAsync(CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [_kubeletClient],
                RemoteCertificateValidationCallback = (_, cert, _, errors) => _kubeletCa is null
                    || (cert is X509Certificate2 server && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                        && Credentials.ChainError(server, _kubeletCa, Credentials.ServerAuthOid) is null),
            },
            ConnectTimeout = TimeSpan.FromSeconds(2),
        })
        { Timeout = TimeSpan.FromSeconds(3) };
        while (!ct.IsCancellationRequested)
        {
            foreach (var (name, node) in _nodes.ToArray())
            {
                if (_kubeletsReached.ContainsKey(name))
                {
                    continue;
                }

                var addresses = node["status"]?["addresses"]?.AsArray() ?? [];
                var address = _kubeletAddressTypes.Select(t => addresses.FirstOrDefault(a => a?["type"]?.GetValue<string>() == t))
                    .FirstOrDefault(a => a is not null)?["address"]?.GetValue<string>();
                if (address is null)
                {
                    _record.Status("kubelet " + name, "no address of the preferred types");
                    continue;
                }

                var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
                try
                {
                    using var response = await http.GetAsync($"https://{host}:10250/healthz", ct);
                    _record.Status("kubelet " + name, $"https://{host}:10250/healthz: {(int)response.StatusCode}");
                    if (response.IsSuccessStatusCode && _kubeletsReached.TryAdd(name, address))
                    {
                        _record.Check($"reached kubelet {name} at {address}:10250 with --kubelet-client-certificate"
                            + (_kubeletCa is null ? " (its serving certificate not verified: no --kubelet-certificate-authority)" : ", its serving certificate verified against --kubelet-certificate-authority"));
                        _record.Write();
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    _record.Status("kubelet " + name, $"https://{host}:10250/healthz: {e.GetBaseException().Message}");
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
    }

    public int Port { get; }

    /// <summary>Client certificates are optional (anonymous requests may read health and version) but must chain to the client CA.</summary>
    public bool ValidateClient(X509Certificate2 cert) => Credentials.ChainError(cert, _clientCa, Credentials.ClientAuthOid) is null;

    /// <summary>Polls etcd's <c>/health</c> on every server with the etcd client certificate, as the apiserver's storage check.</summary>
    public async Task WatchEtcdAsync(CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [_etcdClient],
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    cert is X509Certificate2 server && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                    && Credentials.ChainError(server, _etcdCa, Credentials.ServerAuthOid) is null,
            },
            ConnectTimeout = TimeSpan.FromSeconds(2),
        })
        { Timeout = TimeSpan.FromSeconds(3) };
        while (!ct.IsCancellationRequested)
        {
            var results = new List<string>();
            var any = false;
            foreach (var server in _etcdServers)
            {
                try
                {
                    var body = await http.GetStringAsync(server.TrimEnd('/') + "/health", ct);
                    var ok = body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
                    any |= ok;
                    results.Add($"{server}: {body.Trim()}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    results.Add($"{server}: {e.GetBaseException().Message}");
                }
            }

            var was = _etcdHealthy;
            _etcdHealthy = any;
            _record.Status("etcd", string.Join(" | ", results));
            if (any && !was)
            {
                _record.Check("etcd answered /health over mutual TLS with --etcd-certfile, its certificate verified against --etcd-cafile");
                _record.Write();
            }

            await Task.Delay(TimeSpan.FromSeconds(any ? 10 : 1), ct);
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        switch (path)
        {
            case "/healthz" or "/livez":
                await Text(context, 200, "ok");
                return;
            case "/readyz":
                await Text(context, _etcdHealthy ? 200 : 500, _etcdHealthy ? "ok" : "[-]etcd failed: reason withheld\nreadyz check failed");
                return;
            case "/version":
                await Json(context, 200, VersionJson(_version));
                return;
        }

        // authentication: a client certificate from the client CA (validated in the handshake); CN = user, O = groups
        var cert = context.Connection.ClientCertificate;
        if (cert is null)
        {
            await Json(context, 401, Status(401, "Unauthorized", "Unauthorized"));
            return;
        }

        var user = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var groups = cert.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(r => r.GetSingleElementType().Value == "2.5.4.10").Select(r => r.GetSingleElementValue() ?? "").ToList();
        if (_record.Client(user, groups, $"{request.Method} {path}"))
        {
            _record.Write();
        }

        var segments = path.Trim('/').Split('/');
        try
        {
            switch (segments)
            {
                case ["api"]:
                    await Json(context, 200, new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") });
                    return;
                case ["api", "v1", "nodes"] when request.Method == "GET":
                    Authorize(user, groups, "list", null);
                    await Json(context, 200, List("NodeList", _nodes.Values.OrderBy(n => Name(n), StringComparer.Ordinal)));
                    return;
                case ["api", "v1", "nodes"] when request.Method == "POST":
                    {
                        var node = await Body(context);
                        var name = Name(node);
                        Authorize(user, groups, "create", name);
                        var meta = (JsonObject)node["metadata"]!;
                        meta["uid"] = Guid.NewGuid().ToString();
                        meta["creationTimestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                        meta["resourceVersion"] = Next();
                        if (!_nodes.TryAdd(name, node))
                        {
                            await Json(context, 409, Status(409, "AlreadyExists", $"nodes \"{name}\" already exists"));
                            return;
                        }

                        await Json(context, 201, node);
                        return;
                    }

                case ["api", "v1", "nodes", var name]:
                    await NodeAsync(context, user, groups, name);
                    return;
                case ["api", "v1", "pods"] or ["api", "v1", "namespaces", _, "pods"] when request.Method == "GET":
                    Authorize(user, groups, "list", null);
                    await Json(context, 200, List("PodList", [])); // the double runs no pods
                    return;
                case ["api", "v1", "namespaces", _, "pods", var pod, "eviction"] when request.Method == "POST":
                    Authorize(user, groups, "evict", null);
                    await Json(context, 404, Status(404, "NotFound", $"pods \"{pod}\" not found"));
                    return;
                default:
                    await Json(context, 404, Status(404, "NotFound", "the server could not find the requested resource (nekko-kube-standin serves nodes and pods only)"));
                    return;
            }
        }
        catch (ForbiddenException e)
        {
            await Json(context, 403, Status(403, "Forbidden", e.Message));
        }
        catch (System.Text.Json.JsonException e)
        {
            await Json(context, 400, Status(400, "BadRequest", e.Message));
        }
    }

    private async Task NodeAsync(HttpContext context, string user, List<string> groups, string name)
    {
        switch (context.Request.Method)
        {
            case "GET":
                Authorize(user, groups, "get", name);
                if (_nodes.TryGetValue(name, out var found))
                {
                    await Json(context, 200, found);
                }
                else
                {
                    await Json(context, 404, Status(404, "NotFound", $"nodes \"{name}\" not found"));
                }

                return;
            case "PATCH":
                {
                    Authorize(user, groups, "patch", name);
                    var patch = await Body(context);
                    if (!_nodes.TryGetValue(name, out var node))
                    {
                        await Json(context, 404, Status(404, "NotFound", $"nodes \"{name}\" not found"));
                        return;
                    }

                    lock (node)
                    {
                        MergePatch(node, patch);
                        node["metadata"]!["resourceVersion"] = Next();
                    }

                    await Json(context, 200, node);
                    return;
                }

            case "DELETE":
                Authorize(user, groups, "delete", name);
                if (_nodes.TryRemove(name, out var removed))
                {
                    await Json(context, 200, removed);
                }
                else
                {
                    await Json(context, 404, Status(404, "NotFound", $"nodes \"{name}\" not found"));
                }

                return;
            default:
                await Json(context, 405, Status(405, "MethodNotAllowed", context.Request.Method));
                return;
        }
    }

    private sealed class ForbiddenException(string message) : Exception(message);

    /// <summary>
    /// A rough picture of the default RBAC roles and the NodeRestriction admission plugin: system:masters may do
    /// anything; a kubelet (system:node:NAME in system:nodes) may read Nodes and create or patch its own only; the
    /// controller manager, scheduler and kube-proxy may read Nodes (the controller manager may also patch and delete).
    /// </summary>
    private static void Authorize(string user, List<string> groups, string verb, string? node)
    {
        if (groups.Contains("system:masters"))
        {
            return;
        }

        var read = verb is "get" or "list";
        var allowed = user switch
        {
            _ when user.StartsWith("system:node:", StringComparison.Ordinal) && groups.Contains("system:nodes") =>
                read || (verb is "create" or "patch" && node == user["system:node:".Length..]),
            "system:kube-controller-manager" => read || verb is "patch" or "delete",
            "system:kube-scheduler" or "system:kube-proxy" => read,
            _ => false,
        };
        if (!allowed)
        {
            throw new ForbiddenException($"User \"{user}\" cannot {verb} resource \"nodes\"{(node is null ? "" : $" \"{node}\"")}");
        }
    }

    /// <summary>RFC 7386 JSON merge patch (also used for strategic merge patches, which agree on maps).</summary>
    internal static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child && target[key] is JsonObject existing)
            {
                MergePatch(existing, child);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private string Next() => Interlocked.Increment(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static string Name(JsonNode node) =>
        node["metadata"]?["name"]?.GetValue<string>() is { Length: > 0 } name ? name : throw new System.Text.Json.JsonException("metadata.name is required");

    private JsonObject List(string kind, IEnumerable<JsonObject> items) => new()
    {
        ["kind"] = kind,
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject { ["resourceVersion"] = Interlocked.Read(ref _resourceVersion).ToString(CultureInfo.InvariantCulture) },
        ["items"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
    };

    public static JsonObject VersionJson(string version)
    {
        var parts = version.Split('.');
        return new JsonObject
        {
            ["major"] = parts[0],
            ["minor"] = parts.Length > 1 ? parts[1] : "0",
            ["gitVersion"] = "v" + version,
            ["gitCommit"] = "nekko-kube-standin",
            ["gitTreeState"] = "test-double",
            ["platform"] = "linux/amd64",
        };
    }

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static async Task<JsonObject> Body(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return JsonNode.Parse(await reader.ReadToEndAsync()) as JsonObject ?? throw new System.Text.Json.JsonException("body is not a JSON object");
    }

    private static Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString());
    }

    internal static Task Text(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(body);
    }
}
