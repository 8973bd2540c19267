// bench/agents-load.sh's load generator: N simulated node agents heartbeating against one boot server (issue 6, must-show 5).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using NekkoMetal.AgentLoad;

var options = LoadOptions.Parse(args);
if (options is null)
{
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
}

var results = new List<(string Key, string Value)>();
void Report(string key, FormattableString value)
{
    var text = value.ToString(CultureInfo.InvariantCulture);
    results.Add((key, text));
    Console.WriteLine($"{key} {text}");
}

void Log(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] agentload: {message}");

var roots = new X509Certificate2Collection();
roots.ImportFromPemFile(Path.Combine(options.DataDir, "ca.pem"));

// Only the boot server's CA, as nekko-agent (AgentHttp.CreateHandler) and curl --cacert do.
RemoteCertificateValidationCallback trust = (_, certificate, _, errors) =>
{
    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
    {
        return false;
    }

    using var chain = new X509Chain();
    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
    using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
    return chain.Build(leaf);
};

var adminToken = (await File.ReadAllTextAsync(Path.Combine(options.DataDir, "admin.token"))).Trim();
using var admin = new HttpClient(SimulatedAgent.Handler(trust, null)) { BaseAddress = options.Https, Timeout = TimeSpan.FromSeconds(60) };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
using var boot = new HttpClient { BaseAddress = options.Http, Timeout = TimeSpan.FromSeconds(60) };
using var enrolClient = new HttpClient(SimulatedAgent.Handler(trust, null)) { BaseAddress = options.Https, Timeout = TimeSpan.FromSeconds(60) };

async Task Send(HttpMethod method, string path, object body)
{
    using var response = await admin.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}

// --- fleet: IPAM large enough, a cloud-init profile handing out the bootstrap token, N machines -------------------
const string Role = "agentload";
var serials = Enumerable.Range(1, options.Agents).Select(i => string.Create(CultureInfo.InvariantCulture, $"{options.Prefix}{i:D5}")).ToArray();
var clock = Stopwatch.StartNew();
await Send(HttpMethod.Put, "/api/v1/ipam", new { subnets = new[] { new { name = "agentload", cidr = "10.64.0.0/16" } } });
await Send(HttpMethod.Put, "/api/v1/profiles/" + Role, new
{
    kernel = "vmlinuz",
    initrds = (string[])["initrd.img"],
    cmdline = "console=ttyS0",
    config = new { kind = "cloud-init", userData = "#cloud-config\nnekko:\n  token: {{ bootstrap_token | json }}\n" },
});
foreach (var batch in serials.Select((s, i) => (s, i)).Chunk(500))
{
    await Send(HttpMethod.Post, "/api/v1/machines", batch.Select(x => new
    {
        serial = x.s,
        macs = new[] { string.Create(CultureInfo.InvariantCulture, $"52:54:01:{(x.i >> 16) & 0xff:x2}:{(x.i >> 8) & 0xff:x2}:{x.i & 0xff:x2}") },
        role = Role,
    }).ToArray());
}

Report("registered_machines", $"{serials.Length}");
Report("register_s", $"{clock.Elapsed.TotalSeconds:F1}");

// --- enrolment, exactly as nekko-agent does it on first start -------------------------------------------------------
clock.Restart();
var tokenLine = new Regex("token: \"([^\"]+)\"", RegexOptions.CultureInvariant);
var agents = new SimulatedAgent[serials.Length];
await Parallel.ForEachAsync(Enumerable.Range(0, serials.Length), new ParallelOptions { MaxDegreeOfParallelism = options.SetupParallel }, async (i, ct) =>
{
    var serial = serials[i];
    var userData = await boot.GetStringAsync($"/boot/config/{serial}/user-data", ct);
    var token = tokenLine.Match(userData) is { Success: true } m ? m.Groups[1].Value
        : throw new InvalidDataException($"no bootstrap token in the user-data of {serial}");
    var (key, csr) = SimulatedAgent.NewRequest(serial);
    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/enrol") { Content = JsonContent.Create(new { serial, csr }) };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    using var response = await enrolClient.SendAsync(request, ct);
    var text = await response.Content.ReadAsStringAsync(ct);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"enrolment of {serial}: {(int)response.StatusCode} {text}");
    }

    var pem = JsonDocument.Parse(text).RootElement.GetProperty("certificatePem").GetString()!;
    agents[i] = SimulatedAgent.Create(serial, SimulatedAgent.WithKey(pem, key), trust);
    key.Dispose();
});
Report("enrolled_agents", $"{agents.Length}");
Report("enrol_s", $"{clock.Elapsed.TotalSeconds:F1}");
Report("enrol_per_s", $"{agents.Length / clock.Elapsed.TotalSeconds:F0}");

// --- idle baseline: the same server, same fleet, no heartbeats -----------------------------------------------------
Log($"enrolled {agents.Length}; settling {options.Settle} s, then the idle window ({options.Window} s)");
await Task.Delay(TimeSpan.FromSeconds(options.Settle));
var idle = await MeasureAsync(() => Task.Delay(TimeSpan.FromSeconds(options.Window)));
Report("server_tree_processes", $"{ProcTree.TreeSize(options.ServerPid)}");
Report("idle_window_s", $"{idle.Wall:F1}");
Report("idle_server_cpu_s", $"{idle.Server:F2}");
Report("idle_server_cpu_per_s", $"{idle.Server / idle.Wall:F4}");
Report("idle_etcd_cpu_s", $"{idle.Etcd:F2}");
Report("idle_others_cores", $"{idle.Others / idle.Wall:F2}");

// --- load: every agent heartbeats every interval, agent i at offset i/N of the interval --------------------------
Log($"heartbeats: {agents.Length} agents every {options.Interval} s; warm-up {options.Warmup} s, window {options.Window} s");
var interval = TimeSpan.FromSeconds(options.Interval);
var epoch = Stopwatch.StartNew();
var windowStart = TimeSpan.FromSeconds(options.Warmup);
var windowEnd = windowStart + TimeSpan.FromSeconds(options.Window);
var latencies = new List<double>[agents.Length];
var ok = new int[agents.Length];
var failed = new int[agents.Length];
var warmupFailed = new int[agents.Length];
var firstErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
var senders = new Task[agents.Length];
for (var n = 0; n < agents.Length; n++)
{
    var i = n;
    latencies[i] = new List<double>((int)(options.Window / options.Interval) + 2);
    senders[i] = Task.Run(async () =>
    {
        var agent = agents[i];
        var offset = interval * i / agents.Length;
        for (var k = 0; ; k++)
        {
            var due = offset + (interval * k);
            if (due >= windowEnd)
            {
                return;
            }

            var wait = due - epoch.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var measured = due >= windowStart;
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Https, "/api/v1/agent/heartbeat"))
                {
                    Content = new ByteArrayContent(agent.HeartbeatBody(DateTimeOffset.UtcNow)),
                };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await agent.Http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.IsSuccessStatusCode)
                {
                    if (measured)
                    {
                        ok[i]++;
                        latencies[i].Add(ms);
                    }
                }
                else
                {
                    (measured ? failed : warmupFailed)[i]++;
                    if (firstErrors.Count < 5)
                    {
                        firstErrors.Enqueue($"{agent.Serial}: HTTP {(int)response.StatusCode}");
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                (measured ? failed : warmupFailed)[i]++;
                if (firstErrors.Count < 5)
                {
                    firstErrors.Enqueue($"{agent.Serial}: {e.GetType().Name} {e.Message}");
                }
            }
        }
    });
}

var wait0 = windowStart - epoch.Elapsed;
if (wait0 > TimeSpan.Zero)
{
    await Task.Delay(wait0);
}

var loaded = await MeasureAsync(() => Task.Delay(windowEnd - epoch.Elapsed));
await Task.WhenAll(senders);

var all = latencies.SelectMany(l => l).Order().ToArray();
var okCount = ok.Sum();
var failedCount = failed.Sum();
Report("agents", $"{agents.Length}");
Report("interval_s", $"{options.Interval}");
Report("warmup_s", $"{options.Warmup}");
Report("window_s", $"{loaded.Wall:F1}");
Report("heartbeats_ok", $"{okCount}");
Report("heartbeats_failed", $"{failedCount}");
Report("heartbeats_failed_in_warmup", $"{warmupFailed.Sum()}");
Report("heartbeats_per_s", $"{okCount / loaded.Wall:F1}");
Report("latency_p50_ms", $"{Percentile(all, 0.50):F2}");
Report("latency_p90_ms", $"{Percentile(all, 0.90):F2}");
Report("latency_p99_ms", $"{Percentile(all, 0.99):F2}");
Report("latency_max_ms", $"{(all.Length == 0 ? 0 : all[^1]):F2}");
Report("loaded_server_cpu_s", $"{loaded.Server:F2}");
Report("loaded_server_cpu_per_s", $"{loaded.Server / loaded.Wall:F4}");
Report("loaded_etcd_cpu_s", $"{loaded.Etcd:F2}");
Report("etcd_cpu_us_per_heartbeat", $"{(okCount == 0 ? 0 : loaded.Etcd * 1e6 / okCount):F0}");
Report("loaded_client_cpu_s", $"{loaded.Client:F2}");
Report("loaded_others_cores", $"{loaded.Others / loaded.Wall:F2}");
Report("server_cpu_us_per_heartbeat", $"{(okCount == 0 ? 0 : loaded.Server * 1e6 / okCount):F0}");
Report("server_cpu_us_per_heartbeat_above_idle", $"{(okCount == 0 ? 0 : (loaded.Server - (idle.Server / idle.Wall * loaded.Wall)) * 1e6 / okCount):F0}");
Report("ratio_loaded_over_idle", $"{(idle.Server == 0 ? double.NaN : loaded.Server / loaded.Wall / (idle.Server / idle.Wall)):F1}");
foreach (var e in firstErrors)
{
    Console.WriteLine($"error {e}");
}

if (options.Out is { } path)
{
    await File.WriteAllLinesAsync(path, results.Select(r => $"{r.Key} {r.Value}"));
}

foreach (var a in agents)
{
    a.Dispose();
}

return failedCount == 0 ? 0 : 1;

async Task<Window> MeasureAsync(Func<Task> during)
{
    var server0 = ProcTree.TreeTicks(options.ServerPid);
    var main0 = ProcTree.Ticks(options.ServerPid);
    var system0 = ProcTree.SystemBusyTicks();
    var client0 = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    await during();
    var seconds = wall.Elapsed.TotalSeconds;
    var server = (ProcTree.TreeTicks(options.ServerPid) - server0) / ProcTree.TicksPerSecond;
    var main = (ProcTree.Ticks(options.ServerPid) - main0) / ProcTree.TicksPerSecond;
    var client = (Process.GetCurrentProcess().TotalProcessorTime - client0).TotalSeconds;
    var system = (ProcTree.SystemBusyTicks() - system0) / ProcTree.TicksPerSecond;
    return new Window(seconds, server, server - main, client, Math.Max(0, system - server - client));
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

/// <summary>One measured window: wall seconds, CPU seconds of the boot-server tree (and of its etcd child alone), of this client, of everything else.</summary>
internal readonly record struct Window(double Wall, double Server, double Etcd, double Client, double Others);
