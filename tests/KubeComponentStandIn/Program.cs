using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.KubeComponentStandIn;

// nekko-kube-standin: a TEST DOUBLE for kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
// and containerd, used by the installer's end-to-end test because no Kubernetes binaries can be obtained here. It is
// NOT Kubernetes: it checks its flags and files, serves health on the real ports, and writes a trace. README.md.
var path = Environment.ProcessPath ?? Environment.GetCommandLineArgs()[0];
var component = Path.GetFileName(path);
var rest = args.ToList();
if (!ComponentFlags.All.ContainsKey(component))
{
    if (rest.Count == 0 || !ComponentFlags.All.ContainsKey(rest[0]))
    {
        await Console.Error.WriteLineAsync($"nekko-kube-standin (a test double): install me as one of {string.Join(", ", ComponentFlags.All.Keys)}, or give the component first");
        return 2;
    }

    component = rest[0];
    rest.RemoveAt(0);
}

string Meta(string key) => typeof(ComponentFlags).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
var version = component == "containerd" ? Meta("StandInContainerdVersion") : Meta("StandInKubernetesVersion");
if (rest.Contains("--version"))
{
    Console.WriteLine(component == "containerd"
        ? $"containerd github.com/containerd/containerd v{version} nekko-kube-standin"
        : $"Kubernetes v{version}");
    return 0;
}

var spec = ComponentFlags.All[component];
var (flags, errors) = ComponentFlags.Parse(spec, rest);
var trace = new StandInRecord(component, version, rest, flags);
if (errors.Count > 0)
{
    foreach (var e in errors)
    {
        await Console.Error.WriteLineAsync($"Error: {e}");
    }

    trace.Fatal(string.Join("; ", errors));
    return 1;
}

StandInPlan plan;
var credentials = new Credentials(trace);
try
{
    plan = component switch
    {
        "kube-apiserver" => new ApiServerStandIn(trace, credentials, flags, version).Plan(),
        "kube-controller-manager" => NodeSideStandIns.ControllerManager(trace, credentials, flags),
        "kube-scheduler" => NodeSideStandIns.Scheduler(trace, credentials, flags),
        "kubelet" => NodeSideStandIns.Kubelet(trace, credentials, flags, version),
        "kube-proxy" => NodeSideStandIns.KubeProxy(trace, credentials, flags),
        _ => NodeSideStandIns.Containerd(trace, flags),
    };
}
catch (StandInFatalException e)
{
    await Console.Error.WriteLineAsync($"E nekko-kube-standin {component}: {e.Message}");
    trace.Fatal(e.Message);
    return 1;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    foreach (var listener in plan.Listeners)
    {
        void Configure(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions o)
        {
            if (listener.Certificate is { } cert)
            {
                o.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = cert,
                    ClientCertificateMode = listener.ClientValidator is null ? ClientCertificateMode.NoCertificate
                        : listener.RequireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = listener.ClientValidator is { } validate ? (c, _, _) => validate(c) : null,
                });
            }
        }

        if (listener.UnixSocket is { } socket)
        {
            kestrel.ListenUnixSocket(socket, Configure);
        }
        else
        {
            kestrel.Listen(listener.Endpoint!, Configure);
        }
    }
});
var app = builder.Build();
// no routing: each listener's handler is the whole app on its port (a unix socket has port 0)
var handlers = plan.Listeners.ToDictionary(l => l.Endpoint?.Port ?? 0, l => l.Handler);
app.Run(context => handlers[context.Connection.LocalPort](context));
await app.StartAsync();
trace.Status("listening", string.Join(", ", plan.Listeners.Select(l => l.UnixSocket ?? $"{(l.Certificate is null ? "http" : "https")}://{l.Endpoint}")));
trace.Write();
await Console.Out.WriteLineAsync($"nekko-kube-standin {component} v{version}: a test double, serving {trace.FilePath}");
using var stop = new CancellationTokenSource();
var background = plan.Background.Select(b => Task.Run(() => b(stop.Token))).ToList();
await app.WaitForShutdownAsync();
await stop.CancelAsync();
return 0;
