using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Pki.Renewal;
using NekkoMetal.Pki.Vault;
using NekkoMetal.TestKit;
using Quartz;

namespace NekkoMetal.Pki.Tests;

/// <summary>Served certificates: renewal at two thirds of the lifetime, hot reload under Kestrel, the Quartz job, DI wiring.</summary>
[Collection(EtcdCollection.Name)]
public sealed class ServedCertificatesTests(EtcdFixture etcd) : IDisposable
{
    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static CertificateProfile Https(TimeSpan lifetime) => new()
    {
        CommonName = "localhost",
        DnsNames = ["localhost"],
        IpAddresses = [IPAddress.Loopback],
        Usage = CertificateUsage.Server,
        Lifetime = lifetime,
    };

    [Fact]
    public async Task RenewDue_ReplacesTheCertificateOnlyAfterTwoThirdsOfItsLifetime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
        using var ca = new BuiltInCa(etcd.Endpoint, _prefix, _dir.Path, time, backdate: TimeSpan.Zero);
        using var served = new ServedCertificates(ca.Issuer,
            [new ServedCertificateRegistration("https", CaKind.BootServerHttps, () => Https(TimeSpan.FromDays(3)))],
            time, NullLogger<ServedCertificates>.Instance);
        var events = new List<string>();
        served.Renewed += (use, c) => events.Add(use + " " + c.Certificate.SerialNumber);

        await served.EnsureIssuedAsync(default);
        var first = served.Current("https").Certificate;
        Assert.Equal(time.GetUtcNow().AddDays(2), served.Current("https").RenewalDue);

        time.Advance(TimeSpan.FromDays(2) - TimeSpan.FromMinutes(1));
        Assert.Empty(await served.RenewDueAsync(default));
        Assert.Same(first, served.Current("https").Certificate);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["https"], await served.RenewDueAsync(default));
        var second = served.Current("https").Certificate;
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.Equal(time.GetUtcNow().AddDays(3).UtcDateTime, second.NotAfter.ToUniversalTime());
        Assert.Equal(2, events.Count);
        Assert.Empty(await served.RenewDueAsync(default));
    }

    [Fact]
    public async Task FailedRenewal_KeepsTheOldCertificate_AndIsTriedAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var ca = new BuiltInCa(etcd.Endpoint, _prefix, _dir.Path, time);
        var fail = false;
        var issuer = new FlakyIssuer(ca.Issuer, () => fail);
        using var served = new ServedCertificates(issuer,
            [new ServedCertificateRegistration("https", CaKind.BootServerHttps, () => Https(TimeSpan.FromHours(3)))],
            time, NullLogger<ServedCertificates>.Instance);
        await served.EnsureIssuedAsync(default);
        var first = served.Current("https").Certificate.SerialNumber;

        time.Advance(TimeSpan.FromHours(2.5));
        fail = true;
        Assert.Empty(await served.RenewDueAsync(default));
        Assert.Equal(first, served.Current("https").Certificate.SerialNumber);

        fail = false;
        Assert.Equal(["https"], await served.RenewDueAsync(default));
        Assert.NotEqual(first, served.Current("https").Certificate.SerialNumber);
    }

    [Fact]
    public async Task Kestrel_ServesTheRenewedCertificateToNewConnections_WhileAnOpenConnectionKeepsWorking()
    {
        using var ca = new BuiltInCa(etcd.Endpoint, _prefix, _dir.Path);
        using var served = new ServedCertificates(ca.Issuer,
            [new ServedCertificateRegistration("https", CaKind.BootServerHttps, () => Https(TimeSpan.FromDays(1)))],
            TimeProvider.System, NullLogger<ServedCertificates>.Instance);
        await served.EnsureIssuedAsync(default);
        var root = (await ca.Issuer.GetCaChainAsync(CaKind.BootServerHttps, default)).Single();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(h => h.ServerCertificateSelector = served.KestrelSelector("https"))));
        await using var app = builder.Build();
        app.Run(ctx => ctx.Response.WriteAsync(ctx.Connection.Id));
        await app.StartAsync();
        var url = app.Urls.Single();

        var seen = new List<string>();
        HttpClient Client() => new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    var c = (X509Certificate2)cert!;
                    lock (seen)
                    {
                        seen.Add(c.SerialNumber);
                    }

                    return CertificateChecks.ValidateChain(c, [root]).Count == 0;
                },
            },
        });

        using var open = Client();
        var connection = await open.GetStringAsync(url);
        var firstSerial = served.Current("https").Certificate.SerialNumber;
        Assert.Equal([firstSerial], seen);

        await served.RenewAsync("https", default);
        var secondSerial = served.Current("https").Certificate.SerialNumber;
        Assert.NotEqual(firstSerial, secondSerial);

        // the open connection goes on, on the certificate it shook hands with
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(connection, await open.GetStringAsync(url));
        }

        Assert.Equal([firstSerial], seen);

        // a new connection gets the new certificate, no restart
        using var fresh = Client();
        var other = await fresh.GetStringAsync(url);
        Assert.NotEqual(connection, other);
        Assert.Equal([firstSerial, secondSerial], seen);

        await app.StopAsync();
    }

    [Fact]
    public async Task QuartzJob_RenewsAShortLivedCertificate_ThroughTheDiWiring()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new EtcdStore(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix }));
        builder.AddNekkoPki(_ => new PkiOptions
        {
            DataDirectory = _dir.Path,
            Backdate = TimeSpan.Zero,
            RenewalCheckInterval = TimeSpan.FromMilliseconds(250),
        });
        builder.Services.AddServedCertificate("https", CaKind.BootServerHttps, _ => Https(TimeSpan.FromSeconds(3)));
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var served = host.Services.GetRequiredService<ServedCertificates>();
            Assert.IsType<BuiltIn.BuiltInCertificateIssuer>(host.Services.GetRequiredService<ICertificateIssuer>());
            var first = served.Current("https").Certificate.SerialNumber; // issued at start, before anything listens
            var renewed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            served.Renewed += (_, c) => renewed.TrySetResult(c.Certificate.SerialNumber);

            var second = await renewed.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.NotEqual(first, second);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddNekkoPki_SharesTheHostsQuartzScheduler_WithOtherJobs()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddQuartz(q => q.ScheduleJob<NoopJob>(t => t.WithIdentity("other-job").StartAt(DateTimeOffset.UtcNow.AddHours(1))));
        builder.Services.AddSingleton(new EtcdStore(new InventoryOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix }));
        builder.AddNekkoPki(_ => new PkiOptions { DataDirectory = _dir.Path });
        builder.Services.AddQuartz(q => q.ScheduleJob<NoopJob>(t => t.WithIdentity("later-job").StartAt(DateTimeOffset.UtcNow.AddHours(1))));
        builder.Services.AddQuartzHostedService();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var scheduler = host.Services.GetRequiredService<IScheduler>();
            Assert.True(await scheduler.Exists(new JobKey(CertificateRenewalJob.Name)));
            Assert.True(await scheduler.Exists(new JobKey("other-job")));
            Assert.True(await scheduler.Exists(new JobKey("later-job")));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class NoopJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task DiWiring_WithVaultOptions_ServesACertificateFromVault()
    {
        await using var vault = await FakeVault.StartAsync();
        vault.AddMount("nekko-https", "nekko", new FakeVaultRole(ServerFlag: true, ClientFlag: false));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddNekkoPki(_ => new PkiOptions
        {
            Vault = new VaultOptions { Address = vault.Address, Auth = VaultAuthMethod.AppRole, RoleId = FakeVault.RoleId, SecretId = FakeVault.SecretId },
        });
        services.AddServedCertificate("https", CaKind.BootServerHttps, _ => Https(TimeSpan.FromHours(1)));
        await using var provider = services.BuildServiceProvider();
        foreach (var h in provider.GetServices<IHostedService>().OfType<PkiStartup>())
        {
            await h.StartAsync(default);
        }

        Assert.IsType<VaultCertificateIssuer>(provider.GetRequiredService<ICertificateIssuer>());
        var cert = provider.GetRequiredService<ServedCertificates>().Current("https").Certificate;
        Assert.True(cert.HasPrivateKey);
        Assert.Equal(1, vault.Logins);
        Assert.Equal(1, vault.RequestsTo("nekko-https/issue/nekko"));
    }

    [Fact]
    public void InvalidOptions_AreReportedAllAtOnce()
    {
        var e = Assert.Throws<PkiConfigurationException>(() => new PkiOptions
        {
            Backdate = TimeSpan.FromDays(1),
            Vault = new VaultOptions { Address = new Uri("ftp://x/"), Auth = VaultAuthMethod.AppRole },
        }.EnsureValid());
        Assert.Contains("backdate", e.Message);
        Assert.Contains("http(s)", e.Message);
        Assert.Contains("role id", e.Message);
        Assert.Contains("secret id", e.Message);

        Assert.Throws<PkiConfigurationException>(() => new PkiOptions().EnsureValid()); // built-in CA without a data directory
    }

    private sealed class FlakyIssuer(ICertificateIssuer inner, Func<bool> fail) : ICertificateIssuer
    {
        public Task InitializeAsync(CancellationToken ct) => inner.InitializeAsync(ct);

        public Task<IssuedCertificate> IssueAsync(CaKind ca, CertificateProfile profile, CancellationToken ct) =>
            fail() ? throw new VaultSealedException("POST x/issue/y", ["Vault is sealed"]) : inner.IssueAsync(ca, profile, ct);

        public Task<IssuedCertificate> SignAsync(CaKind ca, string csrPem, CertificateProfile profile, CancellationToken ct) =>
            inner.SignAsync(ca, csrPem, profile, ct);

        public Task<IReadOnlyList<X509Certificate2>> GetCaChainAsync(CaKind ca, CancellationToken ct) => inner.GetCaChainAsync(ca, ct);
    }
}
