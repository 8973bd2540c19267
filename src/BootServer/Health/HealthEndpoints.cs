using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Startup;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Health;

/// <summary><c>/health/live</c>: the process runs. <c>/health/ready</c>: etcd answers and the inventory is loaded and watched.</summary>
public static class HealthEndpoints
{
    public sealed record Readiness(bool Ready, bool Etcd, bool InventoryLoaded, bool Watching, bool Bootstrapped, long Revision, string? Error);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        g.MapGet("/live", () => TypedResults.Ok(new { live = true }));
        g.MapGet("/ready", Ready);
        return app;
    }

    private static async Task<Results<Ok<Readiness>, JsonHttpResult<Readiness>>> Ready(
        EtcdStore store, InventoryCache cache, InventoryBootstrapper bootstrap, CancellationToken ct)
    {
        string? error = null;
        var etcd = false;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            await store.StatusAsync(cts.Token);
            etcd = true;
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException or Grpc.Core.RpcException)
        {
            error = "etcd does not answer";
        }

        var r = new Readiness(
            etcd && cache.WhenReady.IsCompleted && cache.IsWatching && bootstrap.IsDone,
            etcd, cache.WhenReady.IsCompleted, cache.IsWatching, bootstrap.IsDone, cache.Revision, error);
        return r.Ready ? TypedResults.Ok(r) : TypedResults.Json(r, statusCode: 503);
    }
}
