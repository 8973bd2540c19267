using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Profiles;

/// <summary>
/// The install flow's HTTP side. <c>POST /boot/config/{serial}/installed</c>: the installer (or the node agent) of a
/// machine reports a successful install, authenticated by the agent bootstrap token its rendered configuration carries
/// (<c>{{ bootstrap_token }}</c>, minted for that machine); after it the machine boots from its local disk.
/// <c>GET /api/v1/machines/{serial}/install</c> shows the install record, <c>POST …/reinstall</c> clears it so the next
/// network boot installs again.
/// </summary>
public static partial class InstallEndpoints
{
    public const string InstalledPath = "installed";

    /// <summary>What the admin API says about a machine's install.</summary>
    /// <param name="Serial">The machine.</param>
    /// <param name="Role">Its role (null: none, nothing to install).</param>
    /// <param name="Due">Whether its next network boot installs its role's profile.</param>
    /// <param name="ProfileVersion">The version of its role's profile now (null: the role has no profile).</param>
    /// <param name="Record"><c>installs/{serial}</c>: the version it fetched the configuration of, when it reported the install.</param>
    public sealed record InstallStatus(string Serial, string? Role, bool Due, long? ProfileVersion, InstallRecord? Record);

    public static IEndpointRouteBuilder MapInstallReport(this IEndpointRouteBuilder app)
    {
        app.MapPost("/boot/config/{serial}/" + InstalledPath, Report).WithTags("Boot").WithName("ReportInstalled").AllowAnonymous()
            .RequireRateLimiting(Boot.BootRateLimiting.Policy)
            .WithSummary("The machine's installer reports a successful install; needs the machine's agent bootstrap token (from its rendered configuration) as Bearer")
            .Produces<InstallRecord>(200).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        return app;
    }

    public static RouteGroupBuilder MapInstallsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var g = api.MapGroup("/machines").WithTags("Machines");
        g.MapGet("/{serial}/install", Get).WithName("GetMachineInstall")
            .WithSummary("Whether the machine is due for an install, and its install record (profile version, installedAt)")
            .ProducesProblem(404);
        g.MapPost("/{serial}/reinstall", Reinstall).WithName("ReinstallMachine").RequireAuthorization(Policies.Write)
            .WithSummary("Clear the machine's install so its next network boot installs its role's profile again")
            .ProducesProblem(404);
        return api;
    }

    private static async Task<Results<Ok<InstallRecord>, ProblemHttpResult>> Report(
        string serial, HttpContext context, BootstrapTokenRepository bootstrap, InventoryCache cache, ProfileRepository profiles,
        BootProgressRecorder progress, ILoggerFactory loggers, CancellationToken ct)
    {
        var secret = BearerTokenHandler.SecretOf(context.Request);
        // Checked, not used up: the same token is the node agent's to present later.
        var token = await bootstrap.FindAsync(secret, ConfigEndpoints.AgentBootstrapPurpose, ct);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: "a valid agent bootstrap token is required as Bearer (the machine's rendered configuration has it as bootstrap_token)");
        }

        if (!string.Equals(token.Serial, serial, StringComparison.Ordinal))
        {
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "the bootstrap token was not issued to this machine");
        }

        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var machine = cache.GetMachine(serial) ?? throw new NotFoundException("machine", serial);
        var (record, changed) = await profiles.RecordInstalledAsync(machine, "machine:" + machine.Serial, ct);
        if (changed)
        {
            foreach (var mac in machine.Macs)
            {
                progress.Record(mac, BootStages.Installed, machine.Serial);
            }
        }

        LogReported(loggers.CreateLogger(typeof(InstallEndpoints).FullName!), machine.Serial, record.Role, record.ProfileVersion, changed);
        return TypedResults.Ok(record);
    }

    private static async Task<Ok<InstallStatus>> Get(string serial, InventoryCache cache, ProfileRepository profiles, CancellationToken ct) =>
        TypedResults.Ok(await StatusAsync(serial, cache, profiles, ct));

    private static async Task<Ok<InstallStatus>> Reinstall(string serial, HttpContext context, InventoryCache cache, ProfileRepository profiles, CancellationToken ct)
    {
        _ = await KnownMachineAsync(serial, cache, ct);
        await profiles.RequestReinstallAsync(serial, MachinesApi.Actor(context), ct);
        return TypedResults.Ok(await StatusAsync(serial, cache, profiles, ct));
    }

    private static async Task<InstallStatus> StatusAsync(string serial, InventoryCache cache, ProfileRepository profiles, CancellationToken ct)
    {
        var machine = await KnownMachineAsync(serial, cache, ct);
        var record = await profiles.GetInstallAsync(serial, ct);
        var profile = machine.Role is { } role ? await profiles.FindAsync(role, ct) : null;
        var due = profile is not null && InstallRecord.IsInstallDue(record, profile.Role);
        return new InstallStatus(machine.Serial, machine.Role, due, profile?.Version, record);
    }

    private static async Task<Machine> KnownMachineAsync(string serial, InventoryCache cache, CancellationToken ct)
    {
        if (!MachineValidator.IsValidSerial(serial))
        {
            throw new NotFoundException("machine", "(invalid serial)");
        }

        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        return cache.GetMachine(serial) ?? throw new NotFoundException("machine", serial);
    }

    [LoggerMessage(EventIds.InstallReported, LogLevel.Information, "Machine {Serial} reported installed (profile {Role} version {Version}; new: {Changed})")]
    private static partial void LogReported(ILogger logger, string serial, string role, long version, bool changed);
}
