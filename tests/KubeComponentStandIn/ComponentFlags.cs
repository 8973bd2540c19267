namespace NekkoMetal.KubeComponentStandIn;

/// <summary>
/// The flags each stood-in component accepts, and the ones it insists on. A real component knows hundreds of flags;
/// the double knows the ones the installer renders plus a few common ones, and refuses any other with the error the
/// real binaries print (<c>unknown flag: --x</c>), so a typo in the planner fails the test instead of passing it by.
/// "Required" means: the real component refuses to start without it (marked <c>real</c>), or it starts but cannot
/// work in this setup (TLS everywhere, certificates issued by the installer; marked <c>setup</c>).
/// </summary>
internal static class ComponentFlags
{
    public sealed record Spec(string Component, IReadOnlySet<string> Known, IReadOnlyDictionary<string, string> Required);

    private static Spec Make(string component, string[] known, params (string Flag, string Why)[] required) =>
        new(component, new HashSet<string>(known.Concat(required.Select(r => r.Flag)).Append("v").Append("feature-gates"), StringComparer.Ordinal),
            required.ToDictionary(r => r.Flag, r => r.Why, StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, Spec> All { get; } = new[]
    {
        Make("kube-apiserver",
            ["advertise-address", "secure-port", "bind-address", "authorization-mode", "enable-admission-plugins", "allow-privileged",
             "anonymous-auth", "kubelet-certificate-authority", "kubelet-preferred-address-types", "service-node-port-range",
             "audit-log-path", "requestheader-client-ca-file", "proxy-client-cert-file", "proxy-client-key-file"],
            ("etcd-servers", "real: --etcd-servers must be specified"),
            ("service-account-issuer", "real: service-account-issuer is a required flag"),
            ("service-account-signing-key-file", "real: service-account-signing-key-file and service-account-issuer are required flags"),
            ("service-account-key-file", "setup: verifies the tokens the signing key issues"),
            ("etcd-cafile", "setup: etcd serves TLS only"),
            ("etcd-certfile", "setup: etcd requires client certificates"),
            ("etcd-keyfile", "setup: etcd requires client certificates"),
            ("client-ca-file", "setup: every component authenticates with a client certificate"),
            ("tls-cert-file", "setup: without it the apiserver serves a self-signed certificate no kubeconfig trusts"),
            ("tls-private-key-file", "setup: goes with --tls-cert-file"),
            ("kubelet-client-certificate", "setup: kubelets refuse anonymous requests (logs, exec)"),
            ("kubelet-client-key", "setup: goes with --kubelet-client-certificate"),
            ("service-cluster-ip-range", "setup: the default 10.0.0.0/24 is not the cluster's service CIDR")),
        Make("kube-controller-manager",
            ["authentication-kubeconfig", "authorization-kubeconfig", "leader-elect", "cluster-name", "allocate-node-cidrs", "cluster-cidr",
             "service-cluster-ip-range", "use-service-account-credentials", "cluster-signing-cert-file", "cluster-signing-key-file",
             "secure-port", "bind-address", "controllers", "node-cidr-mask-size"],
            ("kubeconfig", "setup: without it the controller manager has no API server"),
            ("root-ca-file", "setup: service-account token secrets carry the cluster CA"),
            ("service-account-private-key-file", "setup: signs service-account tokens")),
        Make("kube-scheduler",
            ["authentication-kubeconfig", "authorization-kubeconfig", "leader-elect", "secure-port", "bind-address", "config"],
            ("kubeconfig", "setup: without it the scheduler has no API server")),
        Make("kubelet",
            ["hostname-override", "node-ip", "anonymous-auth", "authorization-mode", "authentication-token-webhook", "config",
             "cgroup-driver", "fail-swap-on", "healthz-port", "port", "node-labels", "register-node", "rotate-certificates"],
            ("kubeconfig", "setup: without it the kubelet runs standalone and registers no Node"),
            ("container-runtime-endpoint", "setup: the runtime socket"),
            ("client-ca-file", "setup: authenticates the apiserver's kubelet client certificate"),
            ("tls-cert-file", "setup: without it the kubelet serves a self-signed certificate"),
            ("tls-private-key-file", "setup: goes with --tls-cert-file"),
            ("cluster-dns", "setup: pods get no DNS server without it"),
            ("cluster-domain", "setup: pods get no search domain without it")),
        Make("kube-proxy",
            ["hostname-override", "cluster-cidr", "proxy-mode", "config", "healthz-bind-address", "metrics-bind-address"],
            ("kubeconfig", "setup: without it kube-proxy has no API server")),
        Make("containerd", ["config", "address", "log-level"]),
    }.ToDictionary(s => s.Component, StringComparer.Ordinal);

    /// <summary>
    /// <c>--name=value</c>, <c>--name value</c> and bare boolean <c>--name</c>, as Go's pflag; every problem at once.
    /// </summary>
    public static (Dictionary<string, string> Flags, List<string> Errors) Parse(Spec spec, IReadOnlyList<string> args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                errors.Add($"unexpected argument: {arg}");
                continue;
            }

            var body = arg.TrimStart('-');
            string name, value;
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                (name, value) = (body[..eq], body[(eq + 1)..]);
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith('-'))
            {
                (name, value) = (body, args[++i]);
            }
            else
            {
                (name, value) = (body, "true");
            }

            if (!spec.Known.Contains(name))
            {
                errors.Add($"unknown flag: --{name}");
                continue;
            }

            if (!flags.TryAdd(name, value))
            {
                flags[name] = value; // pflag: the last one wins
            }
        }

        foreach (var (flag, why) in spec.Required)
        {
            if (!flags.TryGetValue(flag, out var v) || v.Length == 0)
            {
                errors.Add($"missing required flag --{flag} ({why})");
            }
        }

        return (flags, errors);
    }
}
