using System.ComponentModel.DataAnnotations;

using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Security;

/// <summary><c>ModelOpt:Auth</c>: API keys.</summary>
public sealed class AuthOptions
{
    public const string Section = "ModelOpt:Auth";

    [Setting("how long a looked-up API key is trusted without a query; a revocation through this API applies at once, on other replicas within this time")]
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(10);
}
