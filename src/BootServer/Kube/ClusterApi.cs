using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.KubeInstaller.Execution.Backups;
using NekkoMetal.KubeInstaller.Execution.Control;
using NekkoMetal.KubeInstaller.Execution.History;
using NekkoMetal.KubeInstaller.Model;

namespace NekkoMetal.BootServer.Kube;

/// <summary>
/// <c>/api/v1/cluster</c>: the Kubernetes cluster definition (read token to get, admin token to replace), the
/// installer's status and its operation history. The definition is stored as the installer reads it
/// (<see cref="ClusterDefinitionStore"/>, enums in kebab-case); a replacement is validated first — every problem at
/// once, nothing stored — and written, with its audit entry (<c>cluster.update</c>), by a compare-and-swap on its revision (the <c>ETag</c>; send it back in
/// <c>If-Match</c> to refuse a concurrent change with 409).
/// </summary>
public static class ClusterApi
{
    /// <summary>The definition's JSON (as in etcd), and strictly for request bodies: no unknown fields, required fields present.</summary>
    public static readonly JsonSerializerOptions Json = CreateJson(strict: false);

    /// <summary>The audit action of a created or replaced definition (before/after in the entry).</summary>
    public const string AuditAction = "cluster.update";

    internal static readonly JsonSerializerOptions StrictJson = CreateJson(strict: true);

    private static JsonSerializerOptions CreateJson(bool strict)
    {
        var o = new JsonSerializerOptions(ClusterDefinitionStore.Json) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        if (strict)
        {
            o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.RespectNullableAnnotations = true;
            o.RespectRequiredConstructorParameters = true;
            o.AllowTrailingCommas = false;
            o.MaxDepth = 16;
        }

        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/cluster").WithTags("Kubernetes cluster").RequireAuthorization(Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);
        g.MapGet("", Get).WithName("GetCluster")
            .WithSummary("The Kubernetes cluster definition; its revision is the ETag").Produces<ClusterDefinition>(200).ProducesProblem(404);
        g.MapPut("", Put).WithName("PutCluster").RequireAuthorization(Policies.Write)
            .WithSummary("Create or replace the cluster definition: validated first (400 lists every problem, nothing stored); If-Match: the revision it replaces (409 when it changed)")
            .Accepts<ClusterDefinition>("application/json")
            .Produces<ClusterDefinition>(200).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);
        g.MapGet("/status", Status).WithName("GetClusterStatus")
            .WithSummary("The installer's view: per node and component the unit state, version and health; the phase, next operations, blockers, whether converged; the last operation and recent errors. Per-node detail is the leading boot server's (a non-leader says so).");
        g.MapGet("/history", History).WithName("GetClusterHistory")
            .WithSummary("The installer's operations as run, oldest first: the newest `limit` (default 100, at most 1000)").ProducesProblem(400);
        return app;
    }

    private static async Task<Results<JsonHttpResult<ClusterDefinition>, ProblemHttpResult>> Get(HttpContext context, ClusterDefinitionStore store, CancellationToken ct)
    {
        var (definition, revision) = await store.GetAsync(ct);
        if (definition is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "no cluster is defined yet: PUT /api/v1/cluster (nekkoctl cluster set -f FILE)");
        }

        context.Response.Headers.ETag = $"\"{revision}\"";
        return TypedResults.Json(definition, Json);
    }

    private static async Task<JsonHttpResult<ClusterDefinition>> Put(HttpContext context, ClusterDefinitionStore store, AuditLog audit, CancellationToken ct)
    {
        var element = await JsonBody.ReadElementAsync(context.Request, ct);
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ValidationException("$", "the body must be a JSON object: the cluster definition");
        }

        var definition = Parse(element);
        var problems = ClusterDefinitionValidator.Validate(definition);
        if (problems.Count > 0)
        {
            throw new ValidationException(new Dictionary<string, string[]> { ["definition"] = [.. problems] });
        }

        var (before, expected) = await store.GetAsync(ct);
        if (context.Request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch)
        {
            var text = ifMatch.Trim().Trim('"');
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var wanted))
            {
                throw new ValidationException("If-Match", "must be the revision (ETag) of the stored definition, or 0 to create it");
            }

            expected = wanted; // a stored definition at another revision fails the compare below
        }

        var entry = audit.Create(MachinesApi.Actor(context), AuditAction, null,
            before is null ? null : JsonSerializer.SerializeToElement(before, Json), JsonSerializer.SerializeToElement(definition, Json));
        if (!await store.PutAsync(definition, expected, ct, audit.Ops(entry)))
        {
            throw new ConflictException(expected == 0
                ? "a cluster definition exists already (or was created meanwhile): GET it and send its ETag in If-Match"
                : $"the cluster definition changed since revision {expected}: GET it again and retry");
        }

        var (stored, revision) = await store.GetAsync(ct);
        context.Response.Headers.ETag = $"\"{revision}\"";
        return TypedResults.Json(stored ?? definition, Json);
    }

    /// <summary>Deserializes strictly; a type or shape error names its JSON path.</summary>
    internal static ClusterDefinition Parse(JsonElement element)
    {
        try
        {
            return element.Deserialize<ClusterDefinition>(StrictJson) ?? throw new ValidationException("$", "must not be null");
        }
        catch (JsonException e)
        {
            var path = e.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : "$";
            var message = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "is not a known field"
                : e.Message.Contains("missing required properties", StringComparison.Ordinal) ? "lacks required fields: " + MissingFields(e.Message)
                : e.Message.Contains("null", StringComparison.OrdinalIgnoreCase) ? "must not be null"
                : "has a value of the wrong type or format";
            throw new ValidationException(path.Length == 0 ? "$" : path, message);
        }
    }

    /// <summary>The field names of System.Text.Json's "missing required properties" message (the client's own field names, no data).</summary>
    private static string MissingFields(string message)
    {
        var at = message.IndexOf("including:", StringComparison.Ordinal);
        var names = at < 0 ? "" : message[(at + "including:".Length)..].Trim().TrimEnd('.').Replace("'", "", StringComparison.Ordinal);
        return names.Length is > 0 and < 300 && names.All(c => char.IsAsciiLetterOrDigit(c) || c is ',' or ' ')
            ? names
            : "(see the definition's fields in the API reference)";
    }

    private static async Task<JsonHttpResult<IReadOnlyList<OperationRecord>>> History(HttpRequest request, EtcdStore store, CancellationToken ct)
    {
        var limit = 100;
        if (request.Query["limit"].ToString() is { Length: > 0 } text &&
            (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            throw new ValidationException("limit", "must be a whole number from 1 to 1000");
        }

        return TypedResults.Json(await new EtcdOperationHistory(store).ListAsync(limit, ct), Json);
    }

    private static async Task<JsonHttpResult<ClusterStatusView>> Status(
        ClusterDefinitionStore definitions, KubeInstallerHost host, EtcdStore store, EtcdBackupLog backups, TimeProvider time, CancellationToken ct)
    {
        var (definition, revision) = await definitions.GetAsync(ct);
        var recent = await new EtcdOperationHistory(store).ListAsync(50, ct);
        var leaderKey = await store.GetAsync(store.Keys.Leader(KubeInstallerHost.LeadershipName), ct);
        var leaderId = leaderKey.Kvs.Count > 0 ? leaderKey.Kvs[0].Value.ToStringUtf8() : null;
        var leads = host.Leadership?.IsLeader == true;
        var round = leads ? host.Prober?.Last : null;
        var view = ClusterStatusView.Build(
            definition, revision, host.Enabled, host.DisabledReason, leads, leaderId, round,
            recent, (await backups.ListAsync(1, ct)) is [var b] ? b : null, time.GetUtcNow());
        return TypedResults.Json(view, Json);
    }
}
