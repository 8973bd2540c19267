using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Transport;

namespace NekkoMetal.Tftp.Tests.Infrastructure;

/// <summary>The TFTP server hosted as the boot server would host it (AddTftpServer), on 127.0.0.1 and a free port.</summary>
public sealed class TftpTestServer : IAsyncDisposable
{
    private readonly IHost _host;

    private TftpTestServer(IHost host, LogCapture logs)
    {
        _host = host;
        Logs = logs;
        Server = host.Services.GetRequiredService<TftpServer>();
    }

    public TftpServer Server { get; }

    public LogCapture Logs { get; }

    public IPEndPoint Endpoint => Server.LocalEndPoint!;

    public static async Task<TftpTestServer> StartAsync(string root, TimeProvider? time = null, TftpLimits? limits = null)
    {
        var logs = new LogCapture();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddTftpServer().Configure(o =>
        {
            o.Address = "127.0.0.1";
            o.Port = 0;
            o.Root = root;
            o.Limits = limits ?? new TftpLimits();
        });
        var host = builder.Build();
        await host.StartAsync();
        return new TftpTestServer(host, logs);
    }

    /// <summary>Waits (real time, up to 10 s) until no transfer is running.</summary>
    public async Task WaitIdleAsync(int expected = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Server.ActiveTransfers != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Server.ActiveTransfers} transfers still running, expected {expected}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
