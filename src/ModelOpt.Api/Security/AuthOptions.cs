using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Api.Security;

/// <summary><c>ModelOpt:Auth</c>: API keys.</summary>
public sealed class AuthOptions
{
    public const string Section = "ModelOpt:Auth";

    /// <summary>
    /// How long a key looked up in the database is trusted without asking again. A revocation through this API takes
    /// effect at once here; on other API replicas within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(10);
}
