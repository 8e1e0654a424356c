using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ModelOpt.Api.Security;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>. Browsers, which cannot add that header to a page or the Hangfire dashboard,
/// pass the key once in a page's address (<c>/?api_key=…</c>, <c>/hangfire?api_key=…</c>); it is then kept in an
/// HTTP-only, SameSite=Strict cookie: for the pages and their API calls from a page's address, for the dashboard alone
/// (path <c>/hangfire</c>, a cookie of its own) from the dashboard's. A cookie alone never authorizes a state-changing
/// API call: that also needs the <c>X-Requested-With: ModelOpt</c> header the pages' scripts send and a cross-site form cannot.
/// Refusals are problem details: 401 with <c>WWW-Authenticate: Bearer</c>, 403 naming the scope needed.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string DashboardPath = "/hangfire";
    public const string BrowserCookie = "ModelOpt.Key";
    public const string DashboardCookie = "ModelOpt.DashboardKey";
    public const string BrowserQuery = "api_key";
    public const string ScriptHeader = "X-Requested-With";
    public const string ScriptHeaderValue = "ModelOpt";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = KeyFromRequest(out var fromQuery);
        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }
        var row = await keys.FindActiveAsync(key, Context.RequestAborted);
        if (row is null)
        {
            return AuthenticateResult.Fail("The API key is unknown or has been revoked.");
        }
        if (fromQuery)
        {
            var dashboard = IsDashboard;
            Response.Cookies.Append(dashboard ? DashboardCookie : BrowserCookie, key, new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Request.IsHttps, Path = dashboard ? DashboardPath : "/",
            });
        }
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, row.Id.ToString()), new Claim(ClaimTypes.Name, row.Name), new Claim(ApiKeyDefaults.ScopeClaim, row.Scope.ToString()),
             new Claim(ApiKeyDefaults.TeamClaim, row.TeamId.ToString())],
            ApiKeyDefaults.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyDefaults.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await WriteAsync(StatusCodes.Status401Unauthorized, "An API key is required.",
            failure ?? "Send 'Authorization: Bearer <key>' (in a browser: open /?api_key=<key> once). Create a key with "
                       + "'ModelOpt.Api keys create --scope read', or POST /api/keys with an admin key.",
            "https://tools.ietf.org/html/rfc9110#section-15.5.2");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null)
                     ?? ApiKeyDefaults.Policy(ApiKeyScope.Admin);
        return WriteAsync(StatusCodes.Status403Forbidden, "The API key's scope is not enough.",
            $"This request needs {needed.Replace("scope:", "the scope ", StringComparison.Ordinal)}; the key has the scope {ApiKeyDefaults.ScopeOf(Context.User)?.ToString().ToLowerInvariant()}.",
            "https://tools.ietf.org/html/rfc9110#section-15.5.4");
    }

    private string? KeyFromRequest(out bool fromQuery)
    {
        fromQuery = false;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        var safe = HttpMethods.IsGet(Request.Method) || HttpMethods.IsHead(Request.Method);
        if (safe && !Request.Path.StartsWithSegments("/api") && Request.Query[BrowserQuery].ToString() is { Length: > 0 } queryKey)
        {
            fromQuery = true;
            return queryKey;
        }
        if (IsDashboard && Request.Cookies[DashboardCookie] is { Length: > 0 } dashboardKey)
        {
            return dashboardKey;
        }
        return safe || Request.Headers[ScriptHeader] == ScriptHeaderValue ? Request.Cookies[BrowserCookie] : null;
    }

    private bool IsDashboard => Request.Path.StartsWithSegments(DashboardPath);

    /// <summary>The key a request carries in its header or cookie, for the rate limit that runs before authentication.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        return request.Cookies[request.Path.StartsWithSegments(DashboardPath) ? DashboardCookie : BrowserCookie];
    }

    private async Task WriteAsync(int status, string title, string detail, string type)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = type },
        });
    }
}
