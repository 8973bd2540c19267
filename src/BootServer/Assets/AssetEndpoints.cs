using Microsoft.Net.Http.Headers;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Servers;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// Plain-HTTP asset paths (no token: firmware and installers cannot send one). <c>/boot/assets/{name}</c> serves
/// an asset by name with Range, ETag (its SHA-256) and If-None-Match with <c>sendfile(2)</c> for whole-file GETs (<see cref="SendFileResult"/>) and ASP.NET Core's file result otherwise;
/// while this server lacks the content it redirects (307) to a peer that has it. The peer-to-peer path serves local
/// content by hash only and never redirects.
/// </summary>
public static class AssetEndpoints
{
    public const string BootPath = "/boot/assets/";

    public static IEndpointRouteBuilder MapAssetEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(BootPath + "{name}", ["GET", "HEAD"], ByName).AllowAnonymous().WithTags("Boot")
            .WithSummary("An asset's content by name (Range, If-None-Match; 307 to a peer while this server lacks it)");
        app.MapMethods(AssetReplicator.InternalContentPath + "{sha256}", ["GET", "HEAD"], ByHash).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ByName(
        string name, HttpContext context, AssetRepository repo, AssetFiles files, AssetCatalog catalog, ServerRegistry registry, CancellationToken ct)
    {
        var asset = await repo.GetAsync(name, ct);
        return Serve(context, asset, files, catalog, registry, BootPath + asset.Name);
    }

    private static IResult ByHash(string sha256, AssetFiles files) =>
        files.Has(sha256)
            ? new SendFileResult(files.PathOf(sha256), "application/octet-stream", null, ETag(sha256),
                TypedResults.PhysicalFile(files.PathOf(sha256), "application/octet-stream", entityTag: ETag(sha256), enableRangeProcessing: true))
            : TypedResults.NotFound();

    private static EntityTagHeaderValue ETag(string sha256) => new($"\"{sha256}\"");

    /// <summary>The local file if this server has it; otherwise a 307 to <paramref name="path"/> on a peer that has it; otherwise 503.</summary>
    internal static IResult Serve(HttpContext context, AssetInfo asset, AssetFiles files, AssetCatalog catalog, ServerRegistry registry, string path)
    {
        if (files.Has(asset.Sha256))
        {
            var file = files.PathOf(asset.Sha256);
            return new SendFileResult(file, asset.ContentType, asset.CreatedAt, ETag(asset.Sha256),
                TypedResults.PhysicalFile(file, asset.ContentType, lastModified: asset.CreatedAt, entityTag: ETag(asset.Sha256), enableRangeProcessing: true));
        }

        var peers = catalog.HoldersOf(asset.Sha256).Where(p => p.Id != registry.ServerId && p.Urls.Count > 0).ToList();
        if (peers.Count > 0)
        {
            var peer = peers[Random.Shared.Next(peers.Count)];
            return TypedResults.Redirect(peer.Urls[0].TrimEnd('/') + path + context.Request.QueryString, permanent: false, preserveMethod: true);
        }

        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Asset not available yet",
            detail: $"no boot server holds the content of asset '{asset.Name}' right now; it is being copied, try again shortly");
    }
}
