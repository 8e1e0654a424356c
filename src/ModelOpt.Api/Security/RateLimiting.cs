using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ModelOpt.Api.Security;

/// <summary>
/// ASP.NET Core's rate limiter with one token bucket per caller; refusals are 429 problem details with
/// <c>Retry-After</c>. It runs before authentication, so a key the API has recently found active has a bucket of its
/// own, and every other request (no key, an unknown or a guessed one) takes from its client address's bucket before
/// the database is asked about it. <c>/health</c> is never limited, so probes keep working under load.
/// </summary>
public static class RateLimiting
{
    public static void Configure(RateLimiterOptions options)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            if (context.Request.Path.StartsWithSegments("/health"))
            {
                return RateLimitPartition.GetNoLimiter("health");
            }
            var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            return RateLimitPartition.GetTokenBucketLimiter(CallerOf(context), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.Burst,
                TokensPerPeriod = limits.PermitsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        options.OnRejected = async (rejected, cancellationToken) =>
        {
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
            var http = rejected.HttpContext;
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests.",
                    Detail = $"This caller's rate limit (ModelOpt:RateLimit) is used up; try again in {retryAfter} s.",
                    Type = "https://tools.ietf.org/html/rfc6585#section-4",
                },
            });
        };
    }

    private static string CallerOf(HttpContext context) =>
        ApiKeyAuthenticationHandler.PresentedKey(context.Request) is { Length: > 0 } key
        && context.RequestServices.GetRequiredService<ApiKeyStore>().CachedKeyId(key) is { } id
            ? $"key:{id}"
            : $"ip:{context.Connection.RemoteIpAddress}";
}
