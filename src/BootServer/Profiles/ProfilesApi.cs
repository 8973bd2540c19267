using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory.Profiles;

namespace NekkoMetal.BootServer.Profiles;

/// <summary>
/// <c>/api/v1/profiles</c>: the boot profile of each role. A save renders every template for a sample machine first;
/// a template that does not parse or render, or renders to an invalid configuration, is a 400 and nothing is saved.
/// </summary>
public static class ProfilesApi
{
    public static RouteGroupBuilder MapProfilesApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var g = api.MapGroup("/profiles").WithTags("Profiles");
        g.MapGet("/", List).WithName("ListProfiles").WithSummary("Every role's boot profile, by role");
        g.MapGet("/{role}", Get).WithName("GetProfile").WithSummary("A role's boot profile").ProducesProblem(400).ProducesProblem(404);
        g.MapPut("/{role}", Put).WithName("SetProfile").RequireAuthorization(Policies.Write)
            .WithSummary("Create or replace a role's boot profile (version + 1); templates are rendered for a sample machine first")
            .Accepts<BootProfileSpec>("application/json").ProducesProblem(400).ProducesProblem(409);
        g.MapDelete("/{role}", Delete).WithName("DeleteProfile").RequireAuthorization(Policies.Write)
            .WithSummary("Delete a role's boot profile").ProducesProblem(400).ProducesProblem(404);
        return api;
    }

    private static async Task<Ok<IReadOnlyList<BootProfile>>> List(ProfileRepository repo, CancellationToken ct) =>
        TypedResults.Ok(await repo.ListAsync(ct));

    private static async Task<Ok<BootProfile>> Get(string role, ProfileRepository repo, CancellationToken ct) =>
        TypedResults.Ok(await repo.GetAsync(role, ct));

    private static async Task<Results<Created<BootProfile>, Ok<BootProfile>>> Put(
        string role, HttpContext context, ProfileRepository repo, CancellationToken ct)
    {
        var spec = await JsonBody.ReadAsync<BootProfileSpec>(context.Request, ct);
        var (profile, created) = await repo.PutAsync(role, spec, MachinesApi.Actor(context), ct);
        return created ? TypedResults.Created($"/api/v1/profiles/{profile.Role}", profile) : TypedResults.Ok(profile);
    }

    private static async Task<NoContent> Delete(string role, HttpContext context, ProfileRepository repo, CancellationToken ct)
    {
        await repo.DeleteAsync(role, MachinesApi.Actor(context), ct);
        return TypedResults.NoContent();
    }
}
