using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.BootServer.Profiles;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// The agent API (<c>POST /api/v1/agent/heartbeat</c>, body documented in docs/agent-api.md) and the machine health view
/// of the admin API (<c>GET /api/v1/machines/{serial}/health</c>).
/// </summary>
public static partial class AgentApi
{
    public const string HeartbeatPath = "/api/v1/agent/heartbeat";

    /// <summary>What <c>GET /api/v1/machines/{serial}/health</c> shows.</summary>
    /// <param name="Serial">The machine.</param>
    /// <param name="State">Its lifecycle state.</param>
    /// <param name="StateChangedAt">When it entered that state.</param>
    /// <param name="Managed">Whether the state setter moves it (uninitialized, healthy, unhealthy, unreachable).</param>
    /// <param name="Health"><c>health/{serial}</c>: the last heartbeat and its checks (null: never heard from).</param>
    /// <param name="UnreachableAfterSeconds">The state setter's limit for silence.</param>
    /// <param name="UnhealthyAfterSeconds">The state setter's grace for a failing critical check.</param>
    /// <param name="Leader">The boot server leading the controllers, when one does.</param>
    public sealed record MachineHealthView(
        string Serial, MachineState State, DateTimeOffset StateChangedAt, bool Managed, MachineHealth? Health,
        double UnreachableAfterSeconds, double UnhealthyAfterSeconds, string? Leader);

    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        // Authenticated in the handler by the machine's agent bootstrap token, not by the API token scheme.
        app.MapPost(HeartbeatPath, Heartbeat).WithTags("Agent").WithName("AgentHeartbeat").AllowAnonymous()
            .WithSummary("A node agent's heartbeat: machine serial, check results, timestamp; needs the machine's agent bootstrap token as Bearer (until mTLS, issue 5)")
            .Accepts<Heartbeat>("application/json")
            .Produces<HeartbeatAck>(200).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(413).ProducesProblem(503);
        return app;
    }

    public static RouteGroupBuilder MapHealthApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGroup("/machines").WithTags("Machines")
            .MapGet("/{serial}/health", GetHealth).WithName("GetMachineHealth")
            .WithSummary("The machine's last heartbeat (server clock), its checks with since when each critical one fails, its state and the state setter's limits")
            .ProducesProblem(404);
        return api;
    }

    /// <remarks>
    /// Authentication until the PKI issue's mTLS is wired (issue 5): the agent bootstrap token minted into the machine's
    /// rendered configuration, as Bearer, checked without using it up and bound to the body's serial. mTLS with the
    /// per-machine client certificate (serial in the certificate) replaces it.
    /// </remarks>
    private static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> Heartbeat(
        HttpContext context, BootstrapTokenRepository bootstrap, HealthRepository health, InventoryCache cache, ServerRegistryOptions server,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var secret = BearerTokenHandler.SecretOf(context.Request);
        var token = await bootstrap.FindAsync(secret, ConfigEndpoints.AgentBootstrapPurpose, ct);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: "the machine's agent bootstrap token is required as Bearer (its rendered configuration has it as bootstrap_token)");
        }

        var heartbeat = await JsonBody.ReadAsync<Heartbeat>(context.Request, ct); // 400 with the field on a bad body
        HeartbeatLimits.Validate(heartbeat);
        if (!string.Equals(token.Serial, heartbeat.Serial, StringComparison.Ordinal))
        {
            LogRefused(loggers.CreateLogger(typeof(AgentApi).FullName!), heartbeat.Serial!, token.Serial ?? "(none)");
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "the bootstrap token was not issued to this machine");
        }

        var record = await health.RecordAsync(heartbeat, server.ServerId, ct); // 404 for a serial the inventory does not know
        var state = cache.GetMachine(record.Serial)?.State ?? MachineState.Uninitialized;
        return TypedResults.Ok(new HeartbeatAck(record.Serial, record.LastHeartbeatAt, state));
    }

    private static async Task<Ok<MachineHealthView>> GetHealth(
        string serial, InventoryCache cache, HealthRepository health, IOptions<HealthOptions> options, LeaderElector elector, EtcdStore store, CancellationToken ct)
    {
        if (!MachineValidator.IsValidSerial(serial))
        {
            throw new NotFoundException("machine", "(invalid serial)");
        }

        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var machine = cache.GetMachine(serial) ?? throw new NotFoundException("machine", serial);
        var record = await health.GetAsync(serial, ct);
        var leader = await store.GetAsync(store.Keys.Leader(elector.Name), ct);
        var o = options.Value;
        return TypedResults.Ok(new MachineHealthView(
            machine.Serial, machine.State, machine.StateChangedAt, StateDecision.IsManaged(machine.State), record,
            o.UnreachableAfterSeconds, o.UnhealthyAfterSeconds, leader.Kvs.Count == 0 ? null : leader.Kvs[0].Value.ToStringUtf8()));
    }

    [LoggerMessage(EventIds.HeartbeatRefused, LogLevel.Warning, "Heartbeat for {Serial} refused: the token was issued to {TokenSerial}")]
    private static partial void LogRefused(ILogger logger, string serial, string tokenSerial);
}
