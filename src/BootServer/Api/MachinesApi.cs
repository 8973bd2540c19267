using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Api;

public static class MachinesApi
{
    public static RouteGroupBuilder MapMachinesApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/machines").WithTags("Machines");
        g.MapGet("/", List).WithName("ListMachines")
            .WithSummary("List machines; filters: role, state, label=k=v (repeatable, all must hold), serial, mac")
            .ProducesProblem(400);
        g.MapPost("/", Register).WithName("RegisterMachines").RequireAuthorization(Policies.Write)
            .WithSummary("Register one machine (object) or several (array); each gets an IPAM address")
            .Accepts<MachineSpec>("application/json")
            .Accepts<MachineSpec[]>("application/json")
            .Produces<Machine>(201).Produces<Machine[]>(201).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);
        g.MapGet("/{serial}", Get).WithName("GetMachine").Produces<Machine>(200).ProducesProblem(404);
        g.MapPatch("/{serial}", Update).WithName("UpdateMachine").RequireAuthorization(Policies.Write)
            .WithSummary("Change fields; labels merge (null removes); with revision, only if unchanged since")
            .Accepts<MachinePatch>("application/json", "application/merge-patch+json")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        g.MapDelete("/{serial}", Delete).WithName("DeleteMachine").RequireAuthorization(Policies.Write)
            .WithSummary("Delete a retired machine").ProducesProblem(404).ProducesProblem(409);
        g.MapPut("/{serial}/state", SetState).WithName("SetMachineState").RequireAuthorization(Policies.Write)
            .WithSummary("Move a machine to another lifecycle state, as the transition table allows")
            .Accepts<StateChange>("application/json")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        g.MapPost("/{serial}/actions", RequestAction).WithName("RequestMachineAction").RequireAuthorization(Policies.Write)
            .WithSummary("Ask the machine's agent to reboot or power off: handed to it with the answer to its next heartbeat (once); 409 while no agent heartbeats")
            .Accepts<ActionRequest>("application/json")
            .Produces<PendingAction>(202).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        return api;
    }

    /// <summary>Body of POST /machines/{serial}/actions.</summary>
    public sealed record ActionRequest(AgentAction? Action = null, string? Reason = null);

    private static async Task<Accepted<PendingAction>> RequestAction(string serial, HttpContext context, HealthRepository health, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync<ActionRequest>(context.Request, ct);
        var action = body.Action ?? throw new ValidationException("action", "is required: reboot or power-off");
        var pending = await health.RequestActionAsync(serial, action, body.Reason, Actor(context), fence: null, ct);
        return TypedResults.Accepted($"/api/v1/machines/{Uri.EscapeDataString(serial)}/health", pending);
    }

    /// <summary>Body of PUT /machines/{serial}/state.</summary>
    public sealed record StateChange(MachineState State, string? Reason = null);

    private static async Task<Ok<IReadOnlyList<Machine>>> List(
        HttpRequest request, MachineRepository machines, CancellationToken ct)
    {
        var q = request.Query;
        foreach (var key in q.Keys)
        {
            if (key is not ("role" or "state" or "label" or "serial" or "mac"))
            {
                throw new ValidationException(key, "is not a known filter (role, state, label, serial, mac)");
            }
        }

        MachineState? state = null;
        if (q["state"].ToString() is { Length: > 0 } s)
        {
            state = MachineStateNames.TryParse(s, out var parsed)
                ? parsed
                : throw new ValidationException("state", $"must be one of {string.Join(", ", MachineStateNames.All)}");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in q["label"])
        {
            var eq = l?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            if (eq <= 0 || !MachineValidator.IsValidLabelKey(l![..eq]) || !MachineValidator.IsValidLabelValue(l[(eq + 1)..]))
            {
                throw new ValidationException("label", "must be key=value with a valid label key and value");
            }

            labels[l[..eq]] = l[(eq + 1)..];
        }

        string? mac = null;
        if (q["mac"].ToString() is { Length: > 0 } m)
        {
            mac = MachineValidator.TryNormalizeMac(m, out var normalized)
                ? normalized
                : throw new ValidationException("mac", "is not a MAC address of the form aa:bb:cc:dd:ee:ff");
        }

        var query = new MachineQuery
        {
            Role = Nonempty(q["role"]),
            State = state,
            Serial = Nonempty(q["serial"]),
            Mac = mac,
            Labels = labels,
        };
        return TypedResults.Ok(await machines.ListAsync(query, ct));
    }

    private static async Task<IResult> Register(HttpContext context, MachineRepository machines, CancellationToken ct)
    {
        var body = await JsonBody.ReadElementAsync(context.Request, ct);
        var actor = Actor(context);
        switch (body.ValueKind)
        {
            case JsonValueKind.Object:
                var machine = await machines.RegisterAsync(JsonBody.Convert<MachineSpec>(body), actor, ct);
                return TypedResults.Created($"/api/v1/machines/{Uri.EscapeDataString(machine.Serial)}", machine);
            case JsonValueKind.Array:
                var specs = new List<MachineSpec>(body.GetArrayLength());
                var i = 0;
                foreach (var item in body.EnumerateArray())
                {
                    specs.Add(JsonBody.Convert<MachineSpec>(item, $"[{i++}]"));
                }

                return TypedResults.Created("/api/v1/machines", await machines.RegisterManyAsync(specs, actor, ct));
            default:
                throw new ValidationException("$", "the body must be a machine object or an array of them");
        }
    }

    /// <summary>The machine, with <c>bootProgress</c> of its most recent network boot (by any of its MACs).</summary>
    private static async Task<Ok<JsonObject>> Get(string serial, MachineRepository machines, BootProgressRecorder progress, CancellationToken ct)
    {
        var machine = await machines.GetAsync(serial, ct);
        var json = JsonSerializer.SerializeToNode(machine, InventoryJson.Options)!.AsObject();
        BootProgress? latest = null;
        foreach (var mac in machine.Macs)
        {
            if (progress.Get(mac) is { } p && (latest is null || p.LastSeen > latest.LastSeen))
            {
                latest = p;
            }
        }

        if (latest is not null)
        {
            json["bootProgress"] = JsonSerializer.SerializeToNode(latest, InventoryJson.Options);
        }

        return TypedResults.Ok(json);
    }

    private static async Task<Ok<Machine>> Update(string serial, HttpContext context, MachineRepository machines, CancellationToken ct)
    {
        var patch = await JsonBody.ReadAsync<MachinePatch>(context.Request, ct);
        return TypedResults.Ok(await machines.UpdateAsync(serial, patch, Actor(context), ct));
    }

    private static async Task<NoContent> Delete(string serial, HttpContext context, MachineRepository machines, CancellationToken ct)
    {
        await machines.DeleteAsync(serial, Actor(context), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Machine>> SetState(string serial, HttpContext context, MachineRepository machines, CancellationToken ct)
    {
        var change = await JsonBody.ReadAsync<StateChange>(context.Request, ct);
        return TypedResults.Ok(await machines.SetStateAsync(serial, change.State, change.Reason, Actor(context), ct));
    }

    internal static string Actor(HttpContext context) => context.User.Identity?.Name ?? "anonymous";

    private static string? Nonempty(Microsoft.Extensions.Primitives.StringValues v) => v.Count == 0 || string.IsNullOrEmpty(v[0]) ? null : v[0];
}
