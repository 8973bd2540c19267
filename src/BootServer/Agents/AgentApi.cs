using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Api;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// The agent API (docs/agent-api.md): <c>POST /api/v1/agent/enrol</c> (bootstrap token + CSR → client certificate),
/// <c>POST /api/v1/agent/renew</c> and <c>POST /api/v1/agent/heartbeat</c> (both mTLS), and the machine health view of
/// the admin API (<c>GET /api/v1/machines/{serial}/health</c>).
/// </summary>
public static partial class AgentApi
{
    public const string HeartbeatPath = "/api/v1/agent/heartbeat";
    public const string EnrolPath = "/api/v1/agent/enrol";
    public const string RenewPath = "/api/v1/agent/renew";

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
        // Authenticated in the handlers: the heartbeat and renewal by the agent's client certificate (mTLS), the
        // enrolment by the machine's single-use bootstrap token — not by the API token scheme.
        app.MapPost(HeartbeatPath, Heartbeat).WithTags("Agent").WithName("AgentHeartbeat").AllowAnonymous()
            .WithSummary("A node agent's heartbeat: machine serial, check results, timestamp; needs the machine's agent client certificate (mTLS)")
            .Accepts<Heartbeat>("application/json")
            .Produces<HeartbeatAck>(200).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(413).ProducesProblem(503);
        app.MapPost(EnrolPath, Enrol).WithTags("Agent").WithName("AgentEnrol").AllowAnonymous()
            .WithSummary("Trades the machine's single-use agent bootstrap token (Bearer) and a PKCS#10 CSR (ECDSA P-256) for a client certificate bound to the machine serial")
            .Accepts<AgentCertificateRequest>("application/json")
            .Produces<AgentCertificateResponse>(200).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(413).ProducesProblem(503);
        app.MapPost(RenewPath, Renew).WithTags("Agent").WithName("AgentRenew").AllowAnonymous()
            .WithSummary("A new client certificate for a new CSR, authenticated by the agent's current, still valid client certificate (mTLS)")
            .Accepts<AgentCertificateRequest>("application/json")
            .Produces<AgentCertificateResponse>(200).ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(413).ProducesProblem(503);
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
    /// Authentication: the machine's agent client certificate (<see cref="AgentCertificateAuthenticator"/>: agent CA,
    /// valid now, machine known and not retired), whose serial must be the body's — else 403 (A speaking for B).
    /// </remarks>
    private static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> Heartbeat(
        HttpContext context, AgentCertificateAuthenticator agents, HealthRepository health, InventoryCache cache, ServerRegistryOptions server,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var identity = await agents.AuthenticateAsync(context, ct);
        if (!identity.Accepted)
        {
            return Refusal(identity);
        }

        var heartbeat = await JsonBody.ReadAsync<Heartbeat>(context.Request, ct); // 400 with the field on a bad body
        HeartbeatLimits.Validate(heartbeat);
        if (!string.Equals(identity.Serial, heartbeat.Serial, StringComparison.Ordinal))
        {
            LogRefused(loggers.CreateLogger(typeof(AgentApi).FullName!), heartbeat.Serial!, identity.Serial!);
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"the client certificate speaks for machine '{identity.Serial}', not for the body's serial");
        }

        var record = await health.RecordAsync(heartbeat, server.ServerId, ct); // 404 for a serial the inventory does not know
        var state = cache.GetMachine(record.Serial)?.State ?? MachineState.Uninitialized;
        return TypedResults.Ok(new HeartbeatAck(record.Serial, record.LastHeartbeatAt, state, record.PendingAction?.Action));
    }

    /// <summary>A refused agent identity as a problem: 401 (no or untrusted certificate) or 403 (machine unknown or retired).</summary>
    internal static ProblemHttpResult Refusal(AgentIdentity identity) =>
        TypedResults.Problem(statusCode: identity.Status, title: identity.Status == 401 ? "Unauthorized" : "Forbidden", detail: identity.Reason);

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

    [LoggerMessage(EventIds.HeartbeatRefused, LogLevel.Warning, "Heartbeat for {Serial} refused: the client certificate was issued to {CertificateSerial}")]
    private static partial void LogRefused(ILogger logger, string serial, string certificateSerial);
}
