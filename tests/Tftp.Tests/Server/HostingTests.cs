using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Tests.Infrastructure;
using NekkoMetal.Tftp.Transport;

namespace NekkoMetal.Tftp.Tests.Server;

public class HostingTests
{
    [Fact]
    public async Task InvalidOptions_FailTheStart_WithEveryProblemAtOnce()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTftpServer().Configure(o =>
        {
            o.Address = "not-an-address";
            o.Port = 70000;
            o.Root = "/nonexistent/nekko-tftp";
            o.Limits = new TftpLimits { MaxBlockSize = 100, MaxWindowSize = 0, InitialTimeout = TimeSpan.Zero };
        });
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal(6, e.Failures.Count());
        Assert.Contains(e.Failures, f => f.Contains("address", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("port", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("root", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("maxBlockSize", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("maxWindowSize", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("initialTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultLimits_AreValid() => Assert.Empty(new TftpLimits().Validate());

    [Fact]
    public void DefaultOptions_ListenOnPort69_ServeDebiansIpxeDirectory()
    {
        var o = new TftpServerOptions();
        Assert.Equal("0.0.0.0", o.Address);
        Assert.Equal(69, o.Port);
        Assert.Equal("/usr/lib/ipxe", o.Root);
    }

    [Fact]
    public async Task PortInUse_FailsTheStart()
    {
        using var root = new TempRoot();
        await using var first = await TftpTestServer.StartAsync(root.Path);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTftpServer().Configure(o =>
        {
            o.Address = "127.0.0.1";
            o.Port = first.Endpoint.Port;
            o.Root = root.Path;
        });
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("AddressAlreadyInUse", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomFileSource_ReplacesTheDirectory()
    {
        using var root = new TempRoot();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<ITftpFileSource>(new SingleFileSource("generated.cfg", "#!ipxe\nchain http://boot/\n"u8.ToArray()));
        builder.Services.AddTftpServer().Configure(o =>
        {
            o.Address = "127.0.0.1";
            o.Port = 0;
            o.Root = root.Path;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var results = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Meter.Name == TftpMetrics.MeterName && instrument.Name == "nekkometal.tftp.transfers")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                results.Enqueue(tag.Value as string);
            }
        });
        listener.Start();
        try
        {
            using var client = new TestTftpClient(host.Services.GetRequiredService<TftpServer>().LocalEndPoint!);
            var (content, _) = await client.DownloadAsync("generated.cfg");
            Assert.Equal("#!ipxe\nchain http://boot/\n"u8.ToArray(), content);
            client.Send(TestTftpClient.ReadRequest("other"));
            var (error, _) = await client.ExpectAsync<TftpError>();
            Assert.Equal(TftpErrorCode.FileNotFound, error.Code);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (results.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Contains("completed", results);
            Assert.Contains("not_found", results);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class SingleFileSource(string name, byte[] content) : ITftpFileSource
    {
        public ValueTask<TftpFileResult> OpenAsync(string path, CancellationToken cancellationToken) =>
            ValueTask.FromResult(path == name ? TftpFileResult.Found(new TftpFile(new MemoryStream(content), content.Length)) : TftpFileResult.NotFound);
    }
}
