using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Profiles;

/// <summary>
/// <c>/boot/config/{serial}/…</c>: a machine's rendered configuration over plain HTTP (no token: the OS installer's
/// first boot cannot hold one yet). cloud-init profiles serve <c>user-data</c> and <c>meta-data</c> (NoCloud seed, the
/// kernel gets <c>ds=nocloud;s=…/boot/config/{serial}/</c>); Ignition profiles serve <c>ignition.json</c>. Unknown
/// machine, machine without a role, role without a profile, or a file of the other kind: 404; an installed machine
/// (not due for an install): 409. Fetching user-data or ignition.json records the profile version in <c>installs/{serial}</c>.
/// </summary>
public static partial class ConfigEndpoints
{
    public const string UserData = "user-data";
    public const string MetaData = "meta-data";
    public const string IgnitionJson = "ignition.json";

    /// <summary>Purpose of the bootstrap tokens minted for the node agent of an installing machine.</summary>
    public const string AgentBootstrapPurpose = "agent";

    public static IEndpointRouteBuilder MapConfigEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/boot/config").WithTags("Boot").AllowAnonymous().RequireRateLimiting(Boot.BootRateLimiting.Policy);
        g.MapGet("/{serial}/" + UserData, (string serial, HttpContext c, CancellationToken ct) => Serve(serial, UserData, c, ct))
            .WithSummary("cloud-init user-data rendered for the machine (NoCloud)");
        g.MapGet("/{serial}/" + MetaData, (string serial, HttpContext c, CancellationToken ct) => Serve(serial, MetaData, c, ct))
            .WithSummary("cloud-init meta-data rendered for the machine (NoCloud)");
        g.MapGet("/{serial}/" + IgnitionJson, (string serial, HttpContext c, CancellationToken ct) => Serve(serial, IgnitionJson, c, ct))
            .WithSummary("Ignition config (spec 3.x) rendered for the machine");
        return app;
    }

    private static async Task<ContentHttpResult> Serve(string serial, string file, HttpContext context, CancellationToken ct)
    {
        var services = context.RequestServices;
        var cache = services.GetRequiredService<InventoryCache>();
        var profiles = services.GetRequiredService<ProfileRepository>();
        var renderer = services.GetRequiredService<ProfileRenderer>();
        if (!MachineValidator.IsValidSerial(serial))
        {
            throw new NotFoundException("machine", "(invalid serial)");
        }

        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var machine = cache.GetMachine(serial) ?? throw new NotFoundException("machine", serial);
        if (machine.Role is null)
        {
            throw new NotFoundException("profile", $"(machine '{serial}' has no role)");
        }

        var profile = await profiles.FindAsync(machine.Role, ct) ?? throw new NotFoundException("profile", machine.Role);
        var wantKind = file == IgnitionJson ? ConfigTemplate.IgnitionKind : ConfigTemplate.CloudInit;
        if (profile.Config.Kind != wantKind)
        {
            throw new NotFoundException("configuration file", $"{file} (profile '{profile.Role}' is {profile.Config.Kind})");
        }

        // Served only while the machine is due for an install: an installed machine's configuration (and a fresh agent
        // token with it) is not handed to whoever names its serial.
        var record = await profiles.GetInstallAsync(machine.Serial, ct);
        if (!InstallRecord.IsInstallDue(record, profile.Role))
        {
            throw new ConflictException(
                $"machine '{machine.Serial}' is installed (profile '{record!.Role}' version {record.ProfileVersion}); its configuration is served only while it is due for an install (nekkoctl machines reinstall {machine.Serial})");
        }

        var main = file != MetaData;
        var token = "";
        if (main && ProfileRenderer.UsesBootstrapToken(profile))
        {
            token = await services.GetRequiredService<BootstrapTokenRepository>()
                .IssueForMachineAsync(AgentBootstrapPurpose, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Agents.AgentEnrolmentOptions>>().Value.BootstrapTokenTtl, machine.Macs.Count > 0 ? machine.Macs[0] : null, machine.Serial, ct);
        }

        var input = new ProfileRenderInput
        {
            Machine = machine,
            BootServerUrl = $"{context.Request.Scheme}://{context.Request.Host.Value}",
            BootstrapToken = token,
            CaBundle = services.GetRequiredService<Tls.CaBundle>().Pem, // the boot-server HTTPS CA chain, as DATA_DIR/ca.pem
        };
        var text = file switch
        {
            UserData => renderer.RenderUserData(profile, input),
            MetaData => renderer.RenderMetaData(profile, input),
            _ => renderer.RenderIgnition(profile, input),
        };
        if (main)
        {
            await profiles.RecordConfigFetchAsync(machine, profile, "machine:" + machine.Serial, ct);
        }

        LogServed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConfigEndpoints).FullName!), machine.Serial, file, profile.Role, profile.Version);
        context.Response.Headers.CacheControl = "no-store"; // may carry a bootstrap token
        return TypedResults.Text(text, file == IgnitionJson ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
    }

    [LoggerMessage(EventIds.ConfigServed, LogLevel.Information, "Machine {Serial} fetched {File} of profile {Role} version {Version}")]
    private static partial void LogServed(ILogger logger, string serial, string file, string role, long version);
}
