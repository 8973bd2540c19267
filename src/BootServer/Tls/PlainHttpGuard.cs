using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace NekkoMetal.BootServer.Tls;

/// <summary>
/// Plain HTTP serves only what firmware, installers and the discovery image need — <c>/boot/…</c> (iPXE scripts and
/// binaries, assets, rendered configuration, install reports), the discovery report (<c>POST /api/v1/discovery</c>,
/// guarded by its bootstrap token), peers' content fetches (hash-checked) and <c>/health</c>. Anything else on the
/// plain-HTTP listener is answered 421 with a problem naming the HTTPS URL, before authentication or any handler
/// runs, so nothing changes. The plain listener marks its connections (<see cref="MarkPlainHttp"/>); requests
/// without the mark (the HTTPS listener, ASP.NET's in-process test server) pass.
/// </summary>
public static class PlainHttpGuard
{
    /// <summary>Paths served on plain HTTP whatever the method.</summary>
    private static readonly string[] PlainPrefixes = ["/boot/", "/health/", Assets.AssetReplicator.InternalContentPath];

    /// <summary>Marks every connection of a plain-HTTP listener.</summary>
    public static void MarkPlainHttp(this ListenOptions listen) =>
        listen.Use(next => connection =>
        {
            connection.Features.Set(PlainHttpConnection.Instance);
            return next(connection);
        });

    public static bool IsAllowedOnPlainHttp(string method, PathString path)
    {
        if (path == "/" || PlainPrefixes.Any(p => path.StartsWithSegments(p.TrimEnd('/'), StringComparison.Ordinal)))
        {
            return true;
        }

        return HttpMethods.IsPost(method) && path.Equals("/api/v1/discovery", StringComparison.Ordinal);
    }

    /// <summary>Refuses the API on plain-HTTP connections unless <paramref name="httpsPort"/> is null (--insecure-http-api).</summary>
    public static IApplicationBuilder UsePlainHttpGuard(this IApplicationBuilder app, int? httpsPort)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (httpsPort is not { } port)
        {
            return app;
        }

        return app.Use(async (context, next) =>
        {
            if (context.Features.Get<PlainHttpConnection>() is null || IsAllowedOnPlainHttp(context.Request.Method, context.Request.Path))
            {
                await next(context);
                return;
            }

            var target = $"https://{context.Request.Host.Host}:{port}" + context.Request.Path + context.Request.QueryString;
            context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            context.Response.Headers.CacheControl = "no-store";
            var problem = new ProblemDetails
            {
                Status = StatusCodes.Status421MisdirectedRequest,
                Title = "HTTPS required",
                Detail = $"the API is served over HTTPS only: use {target} (trust the boot server's CA in DATA_DIR/ca.pem); plain HTTP serves only /boot and /health",
                Extensions = { ["httpsUrl"] = target },
            };
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);
        });
    }

    /// <summary>The mark of a plain-HTTP connection.</summary>
    internal sealed class PlainHttpConnection
    {
        public static readonly PlainHttpConnection Instance = new();
    }
}
