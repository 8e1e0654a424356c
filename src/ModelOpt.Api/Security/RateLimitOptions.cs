using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Api.Security;

/// <summary><c>ModelOpt:RateLimit</c>: a token bucket per API key (per client address without one); <c>/health</c> is exempt.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "ModelOpt:RateLimit";

    /// <summary>Requests a caller may make per second, sustained.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Requests a caller may make at once after being idle (the bucket's size).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}
