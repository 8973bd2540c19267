using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.BootServer.Startup;

/// <summary>
/// Once etcd answers: makes sure the schema is one this build knows (writing it and the default IPAM config on an
/// empty etcd), then makes sure an admin can log in — on the very first start it creates the <c>admin</c> token,
/// keeps only its hash in etcd, and writes the secret to <c>DATA_DIR/admin.token</c> (mode 0600).
/// Retries with back-off while etcd is unreachable; a schema newer than this build stops the host.
/// </summary>
public sealed partial class InventoryBootstrapper(
    SchemaInitializer schema,
    InventoryCache cache,
    TokenRepository tokens,
    IOptions<BootServerOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<InventoryBootstrapper> logger) : BackgroundService
{
    public const string SystemActor = "system:bootstrap";

    private readonly ILogger<InventoryBootstrapper> _logger = logger;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDone => _done.Task.IsCompleted;

    public Task WhenDone => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await schema.EnsureAsync(stoppingToken);
                await cache.WhenReady.WaitAsync(stoppingToken);
                await EnsureAdminTokenAsync(stoppingToken);
                _done.TrySetResult();
                LogDone();
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreUnavailableException e)
            {
                LogRetry(backoff.TotalSeconds, e.Message);
                await Task.Delay(backoff, time, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            catch (InvalidOperationException e)
            {
                // a schema we do not understand: serving would corrupt data
                LogFatal(e.Message);
                Environment.ExitCode = 3;
                lifetime.StopApplication();
                return;
            }
        }
    }

    private async Task EnsureAdminTokenAsync(CancellationToken ct)
    {
        var file = options.Value.AdminTokenFile;
        if (File.Exists(file) && tokens.Authenticate((await File.ReadAllTextAsync(file, ct)).Trim()) is not null)
        {
            return;
        }

        if (cache.Tokens.Any())
        {
            LogTokenElsewhere(file);
            return;
        }

        try
        {
            var (_, secret) = await tokens.CreateAsync("admin", TokenRole.Admin, SystemActor, ct);
            Directory.CreateDirectory(options.Value.DataDir);
            var tmp = file + ".tmp";
            await File.WriteAllTextAsync(tmp, "", ct);
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await File.WriteAllTextAsync(tmp, secret + "\n", ct);
            File.Move(tmp, file, overwrite: true);
            LogTokenCreated(file);
        }
        catch (ConflictException)
        {
            LogTokenElsewhere(file); // another boot server created it at the same moment
        }
    }

    [LoggerMessage(EventIds.BootstrapRetry, LogLevel.Warning, "etcd is not reachable yet; retrying in {Seconds} s: {Reason}")]
    private partial void LogRetry(double seconds, string reason);

    [LoggerMessage(EventIds.AdminTokenCreated, LogLevel.Warning, "Created the admin API token; it is in {File} (mode 0600). nekkoctl reads it from there.")]
    private partial void LogTokenCreated(string file);

    [LoggerMessage(EventIds.AdminTokenElsewhere, LogLevel.Information, "API tokens exist in etcd but {File} does not hold one of them; use the token file of the boot server that created it, or 'nekkoctl tokens create'")]
    private partial void LogTokenElsewhere(string file);

    [LoggerMessage(EventIds.BootstrapDone, LogLevel.Information, "Inventory ready")]
    private partial void LogDone();

    [LoggerMessage(EventIds.BootstrapDone + 10, LogLevel.Critical, "Cannot serve this etcd: {Reason}")]
    private partial void LogFatal(string reason);
}
