using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Issue 6 must-show 4: two real boot-server processes on one etcd, controllers' leader lease 3 s. A machine
/// heartbeats (through the real agent API) and goes healthy, falls silent and goes unreachable — the leader (A) does
/// both. A is killed (SIGKILL: no resignation, its lease must run out); B takes over the controllers within the lease
/// TTL; the machine heartbeats again and B makes it healthy. The audit log shows every transition exactly once.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed partial class LeaderFailoverTests(EtcdFixture etcd, ITestOutputHelper output) : IAsyncLifetime
{
    private const int LeaseSeconds = 3;
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly List<(BootServerProcess Process, StringWriter Log)> _servers = [];
    private X509Certificate2 _agentCertificate = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (process, _) in _servers)
        {
            await process.StopAsync(crash: true);
            process.Dispose();
        }

        _agentCertificate?.Dispose();
    }

    private async Task<(BootServerProcess Process, string HttpUrl)> StartAsync(string name)
    {
        var dataDir = Directory.CreateTempSubdirectory($"nekko-leader-{name}-").FullName;
        BootServerTrust.WriteSharedKek(dataDir, _prefix);
        var httpUrl = $"http://127.0.0.1:{EtcdServer.FreePort()}";
        var log = new StringWriter();
        var process = await BootServerProcess.StartAsync(httpUrl, log,
            "--data-dir", dataDir, "--http-url", httpUrl, "--etcd-endpoints", etcd.Endpoint, "--etcd-prefix", _prefix,
            "--tftp-port", "0", "--server-id", "bs-" + name, "--leader-lease-seconds", LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--state-sweep-seconds", "1", "--unreachable-after-seconds", "10", "--unhealthy-after-seconds", "0");
        _servers.Add((process, log));
        return (process, httpUrl);
    }

    [Fact]
    public async Task Leader_killed_the_other_takes_over_within_the_lease_and_no_transition_is_done_twice()
    {
        var (a, aHttp) = await StartAsync("a");
        var token = await AdminTokenAsync(a);
        using var adminA = a.ApiClient(token);
        const string serial = "SN-FAILOVER-1";
        await Expect(await adminA.PostAsync("/api/v1/machines", JsonOf(new { serial, macs = new[] { "52:54:00:4f:00:01" }, role = "node" })), HttpStatusCode.Created);
        await Expect(await adminA.PutAsync("/api/v1/profiles/node", JsonOf(new
        {
            kernel = "vmlinuz",
            initrds = Array.Empty<string>(),
            cmdline = "console=ttyS0",
            config = new { kind = "cloud-init", userData = "#cloud-config\nnekko:\n  token: {{ bootstrap_token | json }}\n" },
        })), HttpStatusCode.Created);
        using var plain = new HttpClient { BaseAddress = new Uri(aHttp) };
        var userData = await plain.GetStringAsync($"/boot/config/{serial}/user-data");
        var agentToken = TokenLine().Match(userData).Groups[1].Value;
        Assert.StartsWith("nekkoboot_", agentToken);
        using (var anonymousA = a.ApiClient())
        {
            _agentCertificate = await AgentCredentialsKit.EnrolAsync(anonymousA, agentToken); // the agent's first call: token + CSR
        }

        await WaitAsync(() => LeaderAsync(adminA, serial), "bs-a", TimeSpan.FromSeconds(30));
        var (b, _) = await StartAsync("b");
        Assert.False(File.Exists(Path.Combine(b.DataDir!, "admin.token"))); // the same cluster: B did not bootstrap another admin
        using var adminB = b.ApiClient(token);

        // Heartbeats (to B: any boot server takes them) → healthy, by the leader A.
        using (var beating = new CancellationTokenSource())
        {
            var beats = BeatAsync(b, serial, _agentCertificate, beating.Token);
            await WaitAsync(() => StateAsync(adminB, serial), "healthy", TimeSpan.FromSeconds(30));
            await beating.CancelAsync();
            await beats;
        }

        await WaitAsync(() => StateAsync(adminB, serial), "unreachable", TimeSpan.FromSeconds(40));
        Assert.Equal("bs-a", await LeaderAsync(adminB, serial));

        // A dies without resigning: B leads once A's lease has run out.
        var killed = Stopwatch.StartNew();
        await a.StopAsync(crash: true);
        await WaitAsync(() => LeaderAsync(adminB, serial), "bs-b", TimeSpan.FromSeconds(LeaseSeconds + 10));
        output.WriteLine($"B leads {killed.Elapsed.TotalSeconds:0.0} s after A was killed (lease {LeaseSeconds} s)");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(LeaseSeconds + 3), $"takeover took {killed.Elapsed} with a {LeaseSeconds} s lease");

        using (var beating = new CancellationTokenSource())
        {
            var beats = BeatAsync(b, serial, _agentCertificate, beating.Token);
            await WaitAsync(() => StateAsync(adminB, serial), "healthy", TimeSpan.FromSeconds(30));
            await beating.CancelAsync();
            await beats;
        }

        // Every transition once, by the state setter; the last by B's term.
        var audit = await Expect(await adminB.GetAsync($"/api/v1/audit?serial={serial}&limit=100"), HttpStatusCode.OK);
        var transitions = audit.EnumerateArray()
            .Select(e => e.ToString())
            .Where(e => e.Contains("state-setter", StringComparison.Ordinal))
            .ToList();
        output.WriteLine(string.Join("\n", transitions));
        Assert.Equal(3, transitions.Count); // uninitialized → healthy, healthy → unreachable, unreachable → healthy
    }

    private static async Task<string> AdminTokenAsync(BootServerProcess server)
    {
        var file = Path.Combine(server.DataDir!, "admin.token");
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(file))
        {
            Assert.True(DateTime.UtcNow < until, "no admin token: " + server.Log());
            await Task.Delay(100);
        }

        return (await File.ReadAllTextAsync(file)).Trim();
    }

    /// <summary>A heartbeat with every check passing each 500 ms until cancelled, as an agent on the machine would send (mTLS).</summary>
    private static async Task BeatAsync(BootServerProcess server, string serial, X509Certificate2 certificate, CancellationToken ct)
    {
        using var client = new HttpClient(AgentCredentialsKit.MtlsHandler(server.DataDir!, certificate)) { BaseAddress = new Uri(server.HttpsUrl) };
        while (!ct.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
            {
                Content = JsonOf(new { serial, timestamp = DateTimeOffset.UtcNow, checks = new[] { new { name = "filesystem", status = "ok", message = "fine", critical = true } } }),
            };
            try
            {
                using var response = await client.SendAsync(request, ct);
                Assert.True(response.IsSuccessStatusCode, $"heartbeat refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                await Task.Delay(500, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task<string?> StateAsync(HttpClient admin, string serial) =>
        (await Expect(await admin.GetAsync($"/api/v1/machines/{serial}"), HttpStatusCode.OK)).GetProperty("state").GetString();

    private static async Task<string?> LeaderAsync(HttpClient admin, string serial) =>
        (await Expect(await admin.GetAsync($"/api/v1/machines/{serial}/health"), HttpStatusCode.OK)).TryGetProperty("leader", out var l) ? l.GetString() : null;

    private static async Task WaitAsync(Func<Task<string?>> read, string expected, TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        string? last = null;
        while (until.Elapsed < timeout)
        {
            try
            {
                last = await read();
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            if (last == expected)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"expected {expected} within {timeout}, last saw {last}");
    }



    [GeneratedRegex("token: \"([^\"]+)\"")]
    private static partial Regex TokenLine();
}
