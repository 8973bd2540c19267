using System.Diagnostics;
using System.Globalization;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// A real <c>nekko-bootserver</c> process (the built dll under <c>dotnet</c>) as a user starts it, its output
/// captured into a log that may outlive it (restarts append to the same one).
/// </summary>
internal sealed class BootServerProcess : IDisposable
{
    private readonly StringWriter _log;

    private BootServerProcess(Process process, StringWriter log, string httpsUrl, string? dataDir)
    {
        Process = process;
        _log = log;
        HttpsUrl = httpsUrl;
        DataDir = dataDir;
    }

    public Process Process { get; }

    /// <summary>The HTTPS base URL of the API: <c>--https-url</c> when given, else a free loopback port chosen here.</summary>
    public string HttpsUrl { get; }

    /// <summary><c>--data-dir</c> (ca.pem, admin.token).</summary>
    public string? DataDir { get; }

    /// <summary>A client of the API over HTTPS that trusts only DATA_DIR/ca.pem.</summary>
    public HttpClient ApiClient(string? token = null, bool allowAutoRedirect = true)
    {
        var c = new HttpClient(TestKit.BootServerTrust.Handler(DataDir!, allowAutoRedirect)) { BaseAddress = new Uri(HttpsUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return c;
    }

    /// <summary>
    /// Starts the boot server with <paramref name="args"/> (plus <c>--https-url</c> on a free loopback port unless
    /// given) and waits (≤ 60 s) until <paramref name="url"/> answers /health/ready.
    /// </summary>
    public static async Task<BootServerProcess> StartAsync(string url, StringWriter log, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nekko-bootserver.dll"));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        var httpsIndex = Array.IndexOf(args, "--https-url");
        var httpsUrl = httpsIndex >= 0 ? args[httpsIndex + 1] : $"https://127.0.0.1:{TestKit.EtcdServer.FreePort()}";
        if (httpsIndex < 0)
        {
            psi.ArgumentList.Add("--https-url");
            psi.ArgumentList.Add(httpsUrl);
        }

        var dataDirIndex = Array.IndexOf(args, "--data-dir");
        var server = new BootServerProcess(Process.Start(psi)!, log, httpsUrl, dataDirIndex >= 0 ? args[dataDirIndex + 1] : null);
        server.Process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        server.Process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        server.Process.BeginOutputReadLine();
        server.Process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(server.Process.HasExited, "the boot server exited: " + server.Log());
            try
            {
                if ((await http.GetAsync(url + "/health/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.True(DateTime.UtcNow < until, "the boot server did not become ready: " + server.Log());
            await Task.Delay(100);
        }
    }

    /// <summary>Stops it with SIGTERM (or SIGKILL when <paramref name="crash"/>: no clean-up at all) and waits ≤ 30 s.</summary>
    public async Task StopAsync(bool crash = false)
    {
        if (Process.HasExited)
        {
            return;
        }

        if (crash)
        {
            Process.Kill();
        }
        else
        {
            using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        Process.Dispose();
    }
}
