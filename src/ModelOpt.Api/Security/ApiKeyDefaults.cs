using System.Security.Claims;

namespace ModelOpt.Api.Security;

/// <summary>Names the API-key scheme, its claims and its policies share.</summary>
public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string ScopeClaim = "modelopt:scope";
    public const string TeamClaim = "modelopt:team";

    /// <summary>The policy an endpoint names to need at least <paramref name="scope"/>.</summary>
    public static string Policy(ApiKeyScope scope) => $"scope:{scope.ToString().ToLowerInvariant()}";

    /// <summary>Who is calling, for rate limits and idempotency keys: the key's id, or the client's address without one.</summary>
    public static string CallerOf(HttpContext context) =>
        context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } keyId ? $"key:{keyId}" : $"ip:{context.Connection.RemoteIpAddress}";

    /// <summary>The team of the request's key; null without a key (open access belongs to the default team).</summary>
    public static Guid? TeamOf(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(TeamClaim), out var team) ? team : null;

    public static ApiKeyScope? ScopeOf(ClaimsPrincipal user) =>
        Enum.TryParse<ApiKeyScope>(user.FindFirstValue(ScopeClaim), out var scope) ? scope : null;
}
