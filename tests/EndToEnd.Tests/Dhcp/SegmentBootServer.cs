using System.Diagnostics;
using System.Text;

namespace NekkoMetal.EndToEnd.Tests.Dhcp;

/// <summary>
/// The real nekko-bootserver process in a member namespace of a <see cref="BroadcastSegment"/>: authoritative
/// DHCP on the member's own <see cref="BroadcastSegment.MemberInterface"/>, the segment's shared etcd (no
/// embedded one), TFTP off, the admin API on the member's address. The first server on an empty etcd prefix writes
/// <c>admin.token</c> into its data directory; later ones find tokens in etcd and write none, so API calls take
/// the token to use.
/// </summary>
internal sealed class SegmentBootServer : IAsyncDisposable
{
    private readonly BroadcastSegment _segment;
    private readonly StringBuilder _log;
    private readonly Process _process;

    private SegmentBootServer(BroadcastSegment segment, string member, string address, string dataDir, Process process, StringBuilder log)
    {
        _segment = segment;
        Member = member;
        Address = address;
        DataDir = dataDir;
        _process = process;
        _log = log;
    }

    public string Member { get; }

    /// <summary>The server's address on the segment: its DHCP server identifier (option 54).</summary>
    public string Address { get; }

    public string DataDir { get; }

    /// <summary>Plain HTTP: /boot, /health and the discovery report.</summary>
    public string Url => $"http://{Address}:8080";

    /// <summary>The API over HTTPS; its certificate chains to DATA_DIR/ca.pem.</summary>
    public string ApiUrl => $"https://{Address}:8443";

    public string AdminTokenFile => Path.Combine(DataDir, "admin.token");

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Adds member <paramref name="member"/> at <paramref name="address"/> and starts the server there; returns once it is ready.</summary>
    public static async Task<SegmentBootServer> StartAsync(BroadcastSegment segment, string member, string address, string etcdEndpoint, string etcdPrefix, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        await segment.AddMemberAsync(member, address);
        var dataDir = Directory.CreateTempSubdirectory($"nekko-seg-{member}-").FullName;
        TestKit.BootServerTrust.WriteSharedKek(dataDir, etcdPrefix); // every boot server of the prefix opens the same built-in CA
        var log = new StringBuilder();
        // DHCP decisions at Debug: every OFFER/ACK/NAK with MAC, xid and address, so a failure can be traced in Log.
        var environment = new Dictionary<string, string> { ["Logging__LogLevel__NekkoMetal.Dhcp.Server"] = "Debug" };
        var process = BroadcastSegment.Start(segment.Namespace(member), log, environment,
            "dotnet", Path.Combine(AppContext.BaseDirectory, "nekko-bootserver.dll"),
            "--data-dir", dataDir, "--http-url", $"http://{address}:8080", "--https-url", $"https://{address}:8443",
            "--etcd-endpoints", etcdEndpoint, "--etcd-prefix", etcdPrefix,
            "--dhcp-interfaces", BroadcastSegment.MemberInterface + "=authoritative", "--tftp-port", "0");
        var server = new SegmentBootServer(segment, member, address, dataDir, process, log);
        try
        {
            await server.WaitReadyAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, $"boot server {Member} exited:\n{Log}");
            try
            {
                await _segment.ExecAsync(Member, "curl", "-sf", "-o", "/dev/null", Url + "/health/ready");
                return;
            }
            catch (InvalidOperationException)
            {
            }

            Assert.True(started.Elapsed < TimeSpan.FromSeconds(90), $"boot server {Member} did not become ready:\n{Log}");
            await Task.Delay(250, ct);
        }
    }

    /// <summary>An admin API call with curl over HTTPS (trusting only its DATA_DIR/ca.pem) from the server's own namespace, returning the body.</summary>
    public async Task<string> ApiAsync(string token, string method, string path, string? json = null)
    {
        var args = new List<string> { "curl", "-sS", "--fail-with-body", "--cacert", Path.Combine(DataDir, "ca.pem"), "-X", method, "-H", "Authorization: Bearer " + token };
        if (json is not null)
        {
            args.AddRange(["-H", "Content-Type: application/json", "--data-binary", json]);
        }

        args.Add(ApiUrl + path);
        return await _segment.ExecAsync(Member, [.. args]);
    }

    /// <summary>Log messages (the line after each <c>level: Category[id]</c> header) containing <paramref name="text"/>.</summary>
    public IReadOnlyList<string> MessagesContaining(string text) =>
        [.. Log.Split('\n').Where(l => l.StartsWith("      ", StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal)).Select(l => l.Trim())];

    /// <summary>The warnings and errors the server logged (console format: a <c>warn:</c>/<c>fail:</c> line, then the message).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var lines = Log.Split('\n');
            return [.. lines.Select((l, i) => (l, i))
                .Where(x => x.l.StartsWith("warn:", StringComparison.Ordinal) || x.l.StartsWith("fail:", StringComparison.Ordinal))
                .Select(x => x.l.Trim() + " " + (x.i + 1 < lines.Length ? lines[x.i + 1].Trim() : ""))];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await BroadcastSegment.StopAsync(_process, TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
