using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;

namespace NekkoMetal.BootServer.Boot;

/// <summary>
/// Per-client limits on the plain-HTTP boot paths that anyone on the LAN can call and that cost the boot server an
/// etcd write each (a bootstrap token, an install record): <see cref="BootServerOptions.BootRequestsPerMinute"/> per
/// client address, as a token bucket (the whole minute's allowance can come as one burst: a machine rebooting a few
/// times in a row is fine). Refused requests get 429 with Retry-After.
/// </summary>
internal static partial class BootRateLimiting
{
    public const string Policy = "boot-paths";

    public static IServiceCollection AddBootRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) =>
            {
                var http = context.HttpContext;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BootRateLimiting));
                LogLimited(logger, http.Connection.RemoteIpAddress?.ToString() ?? "unknown", http.Request.Path);
                return ValueTask.CompletedTask;
            };
            o.AddPolicy(Policy, http =>
            {
                var perMinute = http.RequestServices.GetRequiredService<IOptions<BootServerOptions>>().Value.BootRequestsPerMinute;
                var client = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return perMinute <= 0
                    ? RateLimitPartition.GetNoLimiter(client)
                    : RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = perMinute,
                        TokensPerPeriod = perMinute,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
        });

    [LoggerMessage(EventIds.BootRateLimited, LogLevel.Warning, "Refused {Path} to {Client}: more than --boot-requests-per-minute from that address")]
    private static partial void LogLimited(ILogger logger, string client, PathString path);
}
