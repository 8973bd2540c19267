using System.Diagnostics;
using System.Text;
using NekkoMetal.TestKit;

namespace NekkoMetal.EndToEnd.Tests;

/// <summary>
/// The real nekko-bootserver process inside a <see cref="Lab"/> namespace: its embedded etcd on the namespace's
/// loopback, DHCP (authoritative, with router advertisements) and TFTP on the lab bridge, HTTP on the bridge
/// address. Nothing else serves the lab: a VM that boots, boots from this alone.
/// </summary>
public sealed class BootServerInLab : IAsyncDisposable
{
    private readonly StringBuilder _log;
    private readonly Process _process;

    private BootServerInLab(Lab lab, string dataDir, Process process, StringBuilder log)
    {
        Lab = lab;
        DataDir = dataDir;
        _process = process;
        _log = log;
    }

    public Lab Lab { get; }
    public string DataDir { get; }
    /// <summary>Plain HTTP: what firmware and the discovery image use (/boot, /health, the discovery report).</summary>
    public string Url => $"http://{Lab.ServerAddress}:8080";

    /// <summary>The API over HTTPS; its certificate chains to DATA_DIR/ca.pem.</summary>
    public string ApiUrl => $"https://{Lab.ServerAddress}:8443";

    public string CaFile => Path.Combine(DataDir, "ca.pem");

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

    public static async Task<BootServerInLab> StartAsync(Lab lab, string discoveryDir, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var dataDir = Directory.CreateTempSubdirectory("nekko-e2e-").FullName;
        string[] args =
        [
            "dotnet", Path.Combine(AppContext.BaseDirectory, "nekko-bootserver.dll"),
            "--data-dir", dataDir, "--http-url", $"http://{lab.ServerAddress}:8080", "--https-url", $"https://{lab.ServerAddress}:8443",
            "--discovery-dir", discoveryDir, "--discovery-kernel-args", "console=ttyS0 panic=-1 cryptomgr.notests",
            "--dhcp-interfaces", Lab.Bridge + "=authoritative", "--dhcp-router-advertisements", "true",
            .. extraArgs,
        ];
        var log = new StringBuilder();
        var server = new BootServerInLab(lab, dataDir, lab.Start(log, null, args), log);
        await server.WaitReadyAsync();
        return server;
    }

    private async Task WaitReadyAsync()
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, "the boot server exited:\n" + Log);
            try
            {
                await Lab.Exec("curl", "-sf", "-o", "/dev/null", Url + "/health/ready");
                return;
            }
            catch (InvalidOperationException)
            {
            }

            Assert.True(until.Elapsed < TimeSpan.FromSeconds(90), "the boot server did not become ready:\n" + Log);
            await Task.Delay(250);
        }
    }

    /// <summary>An admin API call from inside the lab (curl over HTTPS, trusting only DATA_DIR/ca.pem), returning the body.</summary>
    public async Task<string> ApiAsync(string method, string path, string? json = null)
    {
        var token = (await File.ReadAllTextAsync(Path.Combine(DataDir, "admin.token"))).Trim();
        var args = new List<string> { "curl", "-sS", "--fail-with-body", "--cacert", CaFile, "-X", method, "-H", "Authorization: Bearer " + token };
        if (json is not null)
        {
            args.AddRange(["-H", "Content-Type: application/json", "--data-binary", json]);
        }

        args.Add(ApiUrl + path);
        return await Lab.Exec([.. args]);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill!.WaitForExitAsync();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
