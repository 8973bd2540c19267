using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.BootServer.Api;

/// <summary>
/// <c>POST /api/v1/discovery</c>: the discovery image reports the machine it runs on, authenticated by the
/// single-use bootstrap token it got on its kernel command line (not by an API token).
/// </summary>
public static class DiscoveryApi
{
    public sealed record DiscoveryResponse(string Serial, IReadOnlyList<string> Ipv4, bool Created, string Action);

    public static IEndpointRouteBuilder MapDiscoveryApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/discovery", Discover).WithTags("Discovery").WithName("Discover").AllowAnonymous()
            .WithSummary("Register (or refresh) the machine the discovery image runs on; needs the bootstrap token as Bearer")
            .Accepts<DiscoveryReport>("application/json")
            .Produces<DiscoveryResponse>(201).Produces<DiscoveryResponse>(200)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409);
        return app;
    }

    private static async Task<Results<Created<DiscoveryResponse>, Ok<DiscoveryResponse>, ProblemHttpResult>> Discover(
        HttpContext context, BootstrapTokenRepository bootstrap, MachineRepository machines, BootProgressRecorder progress, CancellationToken ct)
    {
        var report = await JsonBody.ReadAsync<DiscoveryReport>(context.Request, ct); // a bad body does not use up the token
        var header = context.Request.Headers.Authorization.ToString();
        var secret = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var token = await bootstrap.ConsumeAsync(secret, BootstrapTokenRepository.Discovery, ct);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: "a valid, unused discovery bootstrap token is required (it is on the discovery kernel's command line as nekko.token)");
        }

        var result = await machines.DiscoverAsync(report, "discovery:" + (token.Mac ?? "unknown"), ct);
        foreach (var mac in result.Machine.Macs)
        {
            progress.Record(mac, BootStages.Discovered, result.Machine.Serial);
        }

        var response = new DiscoveryResponse(result.Machine.Serial, result.Machine.Ipv4, result.Created, result.Action);
        return result.Created
            ? TypedResults.Created($"/api/v1/machines/{Uri.EscapeDataString(result.Machine.Serial)}", response)
            : TypedResults.Ok(response);
    }
}
