using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace NekkoMetal.KubeComponentStandIn;

/// <summary>One socket the double listens on, as the real component would.</summary>
internal sealed record Listener(IPEndPoint? Endpoint, string? UnixSocket, X509Certificate2? Certificate, Func<X509Certificate2, bool>? ClientValidator, bool RequireClientCertificate, RequestDelegate Handler);

/// <summary>What a stood-in component serves and does in the background once its flags and files have passed.</summary>
internal sealed record StandInPlan(IReadOnlyList<Listener> Listeners, IReadOnlyList<Func<CancellationToken, Task>> Background);

/// <summary>
/// The doubles of kube-controller-manager, kube-scheduler, kubelet, kube-proxy and containerd: each loads and
/// checks what it is given, reaches the API server with its kubeconfig (mutual TLS, server certificate and host
/// checked) and serves its health endpoints on the real ports; the kubelet double registers its Node (and again if
/// the Node is deleted while it runs, as the real kubelet does).
/// </summary>
internal static class NodeSideStandIns
{
    /// <summary>A self-signed serving certificate, as the controller manager and scheduler make without <c>--tls-cert-file</c>.</summary>
    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}@self-signed", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static int Port(IReadOnlyDictionary<string, string> flags, string flag, int fallback) =>
        flags.TryGetValue(flag, out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Health that turns OK once the API server was reached with the component's kubeconfig.</summary>
    private sealed class ApiReach(StandInRecord record, ApiClient client, string path)
    {
        public volatile bool Reached;

        public async Task LoopAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                string status;
                try
                {
                    var (code, body) = await client.SendAsync(HttpMethod.Get, path);
                    status = $"GET {path}: {code}";
                    if (code is 200 or 404)
                    {
                        if (!Reached)
                        {
                            Reached = true;
                            record.Check($"reached the API server at {client.Kubeconfig.Server} with {client.Kubeconfig.Path} (server certificate verified against the embedded CA and the URL's host; client certificate accepted)");
                            record.Status("api", status);
                            record.Write();
                        }
                    }
                    else
                    {
                        status += " " + body[..Math.Min(body.Length, 200)];
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    status = $"GET {path}: {e.GetBaseException().Message}";
                }

                record.Status("api", status);
                await Task.Delay(TimeSpan.FromSeconds(Reached ? 10 : 1), ct);
            }
        }

        public Task HealthAsync(HttpContext context) =>
            context.Request.Path.Value is "/healthz" or "/livez" or "/readyz"
                ? ApiServerStandIn.Text(context, Reached ? 200 : 500, Reached ? "ok" : "[-]api server not reached")
                : ApiServerStandIn.Text(context, 404, "404 page not found");
    }

    private static void KubeconfigsAgree(Credentials credentials, IReadOnlyDictionary<string, string> flags, StandInRecord record, KubeconfigFile main)
    {
        foreach (var flag in new[] { "authentication-kubeconfig", "authorization-kubeconfig" })
        {
            if (flags.TryGetValue(flag, out var path) && path != main.Path)
            {
                _ = credentials.Kubeconfig(path, flag);
            }
            else if (flags.ContainsKey(flag))
            {
                record.Check($"--{flag} is the --kubeconfig");
            }
        }
    }

    public static StandInPlan ControllerManager(StandInRecord record, Credentials credentials, IReadOnlyDictionary<string, string> flags)
    {
        var kubeconfig = credentials.Kubeconfig(flags["kubeconfig"], "kubeconfig");
        KubeconfigsAgree(credentials, flags, record, kubeconfig);
        using var rootCa = credentials.Certificate(flags["root-ca-file"], "root CA (given to pods)");
        if (!rootCa.RawData.AsSpan().SequenceEqual(kubeconfig.Ca.RawData))
        {
            throw new StandInFatalException("--root-ca-file is not the CA the kubeconfig trusts for the API server: pods would not trust the API server");
        }

        record.Check("--root-ca-file is the CA that signed the API server's certificate (the kubeconfig's CA)");
        using var saKey = credentials.PrivateKey(flags["service-account-private-key-file"], "service-account signing key");
        if (flags.GetValueOrDefault("allocate-node-cidrs") == "true")
        {
            if (!flags.TryGetValue("cluster-cidr", out var cidr) || !IPNetwork.TryParse(cidr, out _))
            {
                throw new StandInFatalException("--allocate-node-cidrs=true needs --cluster-cidr (a CIDR)");
            }
        }

        if (flags.TryGetValue("service-cluster-ip-range", out var services) && !IPNetwork.TryParse(services, out _))
        {
            throw new StandInFatalException($"--service-cluster-ip-range '{services}' is not a CIDR");
        }

        foreach (var flag in new[] { "cluster-signing-cert-file", "cluster-signing-key-file" })
        {
            if (flags.TryGetValue(flag, out var path))
            {
                _ = credentials.Certificate(path, flag);
            }
        }

        var reach = new ApiReach(record, new ApiClient(kubeconfig), "api/v1/nodes");
        return new StandInPlan(
            [new Listener(new IPEndPoint(IPAddress.Any, Port(flags, "secure-port", 10257)), null, SelfSigned("kube-controller-manager"), null, false, reach.HealthAsync)],
            [reach.LoopAsync]);
    }

    public static StandInPlan Scheduler(StandInRecord record, Credentials credentials, IReadOnlyDictionary<string, string> flags)
    {
        var kubeconfig = credentials.Kubeconfig(flags["kubeconfig"], "kubeconfig");
        KubeconfigsAgree(credentials, flags, record, kubeconfig);
        var reach = new ApiReach(record, new ApiClient(kubeconfig), "api/v1/nodes");
        return new StandInPlan(
            [new Listener(new IPEndPoint(IPAddress.Any, Port(flags, "secure-port", 10259)), null, SelfSigned("kube-scheduler"), null, false, reach.HealthAsync)],
            [reach.LoopAsync]);
    }

    public static StandInPlan KubeProxy(StandInRecord record, Credentials credentials, IReadOnlyDictionary<string, string> flags)
    {
        var kubeconfig = credentials.Kubeconfig(flags["kubeconfig"], "kubeconfig");
        if (flags.TryGetValue("cluster-cidr", out var cidr) && !IPNetwork.TryParse(cidr, out _))
        {
            throw new StandInFatalException($"--cluster-cidr '{cidr}' is not a CIDR");
        }

        var name = flags.GetValueOrDefault("hostname-override") ?? Environment.MachineName;
        var reach = new ApiReach(record, new ApiClient(kubeconfig), "api/v1/nodes/" + name);
        return new StandInPlan(
            [new Listener(new IPEndPoint(IPAddress.Any, 10256), null, null, null, false, reach.HealthAsync)],
            [reach.LoopAsync]);
    }

    public static StandInPlan Containerd(StandInRecord record, IReadOnlyDictionary<string, string> flags)
    {
        var socket = flags.GetValueOrDefault("address") ?? "/run/containerd/containerd.sock";
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        File.Delete(socket);
        record.Status("socket", socket);
        return new StandInPlan(
            [new Listener(null, socket, null, null, false, context => ApiServerStandIn.Text(context, 404, "nekko-kube-standin: no CRI here (a test double)"))],
            []);
    }

    public static StandInPlan Kubelet(StandInRecord record, Credentials credentials, IReadOnlyDictionary<string, string> flags, string version)
    {
        var kubeconfig = credentials.Kubeconfig(flags["kubeconfig"], "kubeconfig");
        var name = flags.GetValueOrDefault("hostname-override") ?? Environment.MachineName;
        if (kubeconfig.Client.GetNameInfo(X509NameType.SimpleName, false) != "system:node:" + name)
        {
            throw new StandInFatalException($"the kubeconfig's user is '{kubeconfig.Client.Subject}', not system:node:{name}: the Node authorizer would refuse it");
        }

        using var clientCa = credentials.Certificate(flags["client-ca-file"], "client CA");
        var serving = credentials.Pair(flags["tls-cert-file"], flags["tls-private-key-file"], "serving certificate");
        credentials.MustChain(serving, clientCa, "--tls-cert-file", "--client-ca-file", Credentials.ServerAuthOid);
        foreach (var dns in flags["cluster-dns"].Split(','))
        {
            if (!IPAddress.TryParse(dns, out _))
            {
                throw new StandInFatalException($"--cluster-dns '{dns}' is not an IP address");
            }
        }

        var nodeIp = flags.GetValueOrDefault("node-ip");
        if (nodeIp is not null && !IPAddress.TryParse(nodeIp, out _))
        {
            throw new StandInFatalException($"--node-ip '{nodeIp}' is not an IP address");
        }

        var endpoint = flags["container-runtime-endpoint"];
        if (!endpoint.StartsWith("unix://", StringComparison.Ordinal))
        {
            throw new StandInFatalException($"--container-runtime-endpoint '{endpoint}' is not unix://");
        }

        var runtimeSocket = endpoint["unix://".Length..];
        var caBytes = clientCa.RawData;
        var anonymous = flags.GetValueOrDefault("anonymous-auth", "true") != "false";
        var runtimeUp = false;
        var registered = false;
        var client = new ApiClient(kubeconfig);

        async Task RuntimeAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(runtimeSocket), ct);
                    if (!runtimeUp)
                    {
                        runtimeUp = true;
                        record.Check($"container runtime socket {runtimeSocket} accepts connections");
                        record.Write();
                    }
                }
                catch (SocketException e)
                {
                    runtimeUp = false;
                    record.Status("runtime", $"{runtimeSocket}: {e.Message}");
                }

                await Task.Delay(TimeSpan.FromSeconds(runtimeUp ? 10 : 1), ct);
            }
        }

        async Task RegisterAsync(CancellationToken ct)
        {
            var node = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Node",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = name, ["kubernetes.io/os"] = "linux", ["kubernetes.io/arch"] = "amd64" },
                    ["annotations"] = new JsonObject { ["nekko.test/stand-in"] = "registered by nekko-kube-standin, a test double of the kubelet" },
                },
                ["spec"] = new JsonObject(),
                ["status"] = new JsonObject
                {
                    ["addresses"] = new JsonArray(
                        new JsonObject { ["type"] = "InternalIP", ["address"] = nodeIp ?? "" },
                        new JsonObject { ["type"] = "Hostname", ["address"] = name }),
                    ["conditions"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "Ready",
                        ["status"] = "True",
                        ["reason"] = "KubeletReady",
                        ["message"] = "nekko-kube-standin (test double): no pods, no CNI; Ready means only that it registered",
                    }),
                    ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = "v" + version },
                    ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
                },
            };
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var (code, body) = await client.SendAsync(HttpMethod.Get, "api/v1/nodes/" + name);
                    if (code == 404)
                    {
                        (code, body) = await client.SendAsync(HttpMethod.Post, "api/v1/nodes", node);
                        record.Status("register", $"POST /api/v1/nodes: {code} {(code == 201 ? "" : body)}");
                        if (code == 201)
                        {
                            registered = true;
                            record.Check($"registered Node {name} through {kubeconfig.Server} as {kubeconfig.Client.GetNameInfo(X509NameType.SimpleName, false)}");
                            record.Write();
                        }
                    }
                    else
                    {
                        record.Status("register", $"GET /api/v1/nodes/{name}: {code}");
                        registered = code == 200;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    record.Status("register", e.GetBaseException().Message);
                }

                await Task.Delay(TimeSpan.FromSeconds(registered ? 3 : 1), ct);
            }
        }

        Task Health(HttpContext context) => context.Request.Path.Value == "/healthz"
            ? ApiServerStandIn.Text(context, runtimeUp ? 200 : 500, runtimeUp ? "ok" : "[-]container runtime down")
            : ApiServerStandIn.Text(context, 404, "404 page not found");

        async Task Secure(HttpContext context)
        {
            if (context.Connection.ClientCertificate is { } cert)
            {
                var groups = cert.SubjectName.EnumerateRelativeDistinguishedNames().Where(r => r.GetSingleElementType().Value == "2.5.4.10")
                    .Select(r => r.GetSingleElementValue() ?? "").ToList();
                if (record.Client(cert.GetNameInfo(X509NameType.SimpleName, false), groups, context.Request.Path.Value ?? "/"))
                {
                    record.Write();
                }
            }
            else if (!anonymous)
            {
                await ApiServerStandIn.Text(context, 401, "Unauthorized");
                return;
            }

            await (context.Request.Path.Value switch
            {
                "/healthz" => Health(context),
                "/pods" => ApiServerStandIn.Text(context, 200, """{"kind":"PodList","apiVersion":"v1","items":[]}"""),
                _ => ApiServerStandIn.Text(context, 404, "404 page not found"),
            });
        }

        bool Validate(X509Certificate2 cert)
        {
            using var ca = X509CertificateLoader.LoadCertificate(caBytes);
            return Credentials.ChainError(cert, ca, Credentials.ClientAuthOid) is null;
        }

        return new StandInPlan(
            [
                new Listener(new IPEndPoint(IPAddress.Any, Port(flags, "port", 10250)), null, serving, Validate, !anonymous, Secure),
                new Listener(new IPEndPoint(IPAddress.Loopback, Port(flags, "healthz-port", 10248)), null, null, null, false, Health),
            ],
            [RuntimeAsync, RegisterAsync]);
    }
}
