using System.ComponentModel.DataAnnotations;

using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Security;

/// <summary><c>ModelOpt:RateLimit</c>: a token bucket per API key (per client address without one); <c>/health</c> is exempt.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "ModelOpt:RateLimit";

    [Setting("requests per second a caller may make, sustained: a token bucket per API key (per client address without one), refilled every second; `/health` is exempt", Essential = true)]
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 50;

    [Setting("requests a caller may make at once after being idle (the bucket's size); beyond it, 429 problem details with `Retry-After`", Essential = true)]
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}
