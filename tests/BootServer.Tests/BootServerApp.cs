using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// A whole boot server (the real Program, DI, middleware, inventory) in process on ASP.NET's test server,
/// against a real etcd under the given prefix. Two of these on one prefix are two boot servers.
/// </summary>
public sealed class BootServerApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public BootServerApp(string etcdEndpoint, string prefix, IDictionary<string, string?>? extra = null)
    {
        DataDir = Directory.CreateTempSubdirectory("nekko-bs-").FullName;
        NekkoMetal.TestKit.BootServerTrust.WriteSharedKek(DataDir, prefix); // boot servers of one prefix share the built-in CA
        _settings = new Dictionary<string, string?>
        {
            ["etcdEndpoints"] = etcdEndpoint,
            ["etcdPrefix"] = prefix,
            ["dataDir"] = DataDir,
            ["tftpPort"] = "0", // many in-process servers at once: no TFTP on a fixed port
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            _settings[k] = v;
        }
    }

    public string DataDir { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(_settings));
    }

    /// <summary>Waits for /health/ready.</summary>
    public async Task WaitReadyAsync()
    {
        using var client = CreateClient();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var r = await client.GetAsync("/health/ready");
            if (r.IsSuccessStatusCode)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, "the boot server did not become ready within 30 s: " + await r.Content.ReadAsStringAsync());
            await Task.Delay(50);
        }
    }

    /// <summary>The admin token this server wrote on first start.</summary>
    public async Task<string> AdminTokenAsync()
    {
        await WaitReadyAsync();
        return (await File.ReadAllTextAsync(Path.Combine(DataDir, "admin.token"))).Trim();
    }

    /// <summary>Runs nekkoctl in process against this server, with the server's token file (NEKKO_DATA_DIR).</summary>
    public async Task<(int Code, string Out, string Err)> NekkoctlAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var env = new Dictionary<string, string?> { ["NEKKO_SERVER"] = "http://localhost", ["NEKKO_DATA_DIR"] = DataDir };
        var code = await NekkoMetal.Cli.CliApp.RunAsync(args, Server.CreateHandler(), stdout, stderr, env);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public HttpClient Client(string? token)
    {
        var c = CreateClient();
        if (token is not null)
        {
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return c;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
