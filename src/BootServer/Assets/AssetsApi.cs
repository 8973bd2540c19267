using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using NekkoMetal.BootServer.Api;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Servers;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// <c>/api/v1/assets</c>: upload (the request body is the content, streamed to disk and hashed on the way; an
/// optional <c>X-Checksum-Sha256</c> is checked before anything becomes visible), list, metadata, download, delete.
/// </summary>
public static class AssetsApi
{
    public const string ChecksumHeader = "X-Checksum-Sha256";

    public static RouteGroupBuilder MapAssetsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var g = api.MapGroup("/assets").WithTags("Assets");
        g.MapGet("/", List).WithName("ListAssets").WithSummary("Every asset's metadata, by name");
        g.MapGet("/{name}", Get).WithName("GetAsset").WithSummary("An asset's metadata").ProducesProblem(400).ProducesProblem(404);
        g.MapMethods("/{name}/content", ["GET", "HEAD"], Download).WithName("DownloadAsset")
            .WithSummary("An asset's content (Range, If-None-Match; 307 to a peer while this server lacks it)")
            .ProducesProblem(404).ProducesProblem(503);
        g.MapPut("/{name}", Upload).WithName("UploadAsset").RequireAuthorization(Policies.Write)
            .WithSummary("Create or replace an asset; the body is the content, X-Checksum-Sha256 (optional) its expected hash")
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);
        g.MapDelete("/{name}", Delete).WithName("DeleteAsset").RequireAuthorization(Policies.Write)
            .WithSummary("Delete an asset; every boot server removes its content").ProducesProblem(404);
        return api;
    }

    private static async Task<Ok<IReadOnlyList<AssetInfo>>> List(AssetRepository repo, CancellationToken ct) =>
        TypedResults.Ok(await repo.ListAsync(ct));

    private static async Task<Ok<AssetInfo>> Get(string name, AssetRepository repo, CancellationToken ct) =>
        TypedResults.Ok(await repo.GetAsync(name, ct));

    private static async Task<IResult> Download(
        string name, HttpContext context, AssetRepository repo, AssetFiles files, AssetCatalog catalog, ServerRegistry registry, CancellationToken ct)
    {
        var asset = await repo.GetAsync(name, ct);
        return AssetEndpoints.Serve(context, asset, files, catalog, registry, AssetEndpoints.BootPath + asset.Name);
    }

    private static async Task<Results<Created<AssetInfo>, Ok<AssetInfo>>> Upload(
        string name, HttpContext context, AssetRepository repo, AssetFiles files, ServerRegistry registry, AssetReplicator replicator,
        IOptions<BootServerOptions> options, CancellationToken ct)
    {
        AssetName.Check(name);
        var request = context.Request;
        string? expected = null;
        if (request.Headers[ChecksumHeader].ToString() is { Length: > 0 } header)
        {
            expected = header.Trim().ToLowerInvariant();
            if (!AssetName.IsSha256(expected))
            {
                throw new ValidationException(ChecksumHeader, "must be the content's SHA-256 as 64 hex digits");
            }
        }

        var contentType = request.ContentType is { Length: > 0 } given ? given : "application/octet-stream";
        if (contentType.Length > 255 || !MediaTypeHeaderValue.TryParse(contentType, out _))
        {
            throw new ValidationException("Content-Type", "must be a media type such as application/octet-stream");
        }

        var max = options.Value.MaxAssetBytes;
        if (request.ContentLength > max)
        {
            throw new BadHttpRequestException($"the asset is {request.ContentLength} bytes, larger than the limit of {max} bytes (--max-asset-bytes)", StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max; // instead of the API's small default: this body goes to disk, not memory
        }

        using var stored = await files.WriteAsync(request.Body, max, expected, request.ContentLength, ChecksumHeader, ct);
        var lease = registry.LeaseId;
        var (asset, created) = await repo.PutAsync(
            new AssetInfo { Name = name, Sha256 = stored.Sha256, Size = stored.Size, ContentType = contentType },
            MachinesApi.Actor(context), lease != 0 ? registry.ServerId : null, lease, ct);
        replicator.Nudge();
        return created ? TypedResults.Created($"/api/v1/assets/{asset.Name}", asset) : TypedResults.Ok(asset);
    }

    private static async Task<NoContent> Delete(string name, HttpContext context, AssetRepository repo, AssetReplicator replicator, CancellationToken ct)
    {
        await repo.DeleteAsync(name, MachinesApi.Actor(context), ct);
        replicator.Nudge();
        return TypedResults.NoContent();
    }
}
