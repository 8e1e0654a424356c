using ModelOpt.Api.Security;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// The <c>Idempotency-Key</c> request header of <c>POST /api/jobs</c> and uploads: a retry that sends the key of an earlier
/// request gets that request's job or checkpoint back, and nothing new is created. Keys are scoped to the caller's team:
/// two keys of one team share them, two teams never do.
/// </summary>
public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    private const int MaxLength = 200;

    /// <summary>"team:{team id}:{key}" as stored in the row, or null when the request has no key.</summary>
    /// <exception cref="RequestValidationException">The header is repeated, empty, too long or holds control characters.</exception>
    public static string? Of(HttpContext context)
    {
        var values = context.Request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }
        var key = values.ToString().Trim();
        if (values.Count > 1 || key.Length is 0 or > MaxLength || key.Any(char.IsControl))
        {
            throw new RequestValidationException(Header, $"Send one {Header} of 1-{MaxLength} printable characters, e.g. a UUID.");
        }
        return $"team:{ApiKeyDefaults.TeamOf(context.User) ?? Team.DefaultId}:{key}";
    }
}
