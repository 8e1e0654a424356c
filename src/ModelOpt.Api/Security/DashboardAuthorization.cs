using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authorization;

namespace ModelOpt.Api.Security;

/// <summary>The Hangfire dashboard needs an admin key (or <see cref="OpenAccess"/>): it can delete and re-run jobs.</summary>
public sealed class DashboardAuthorization : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
        var result = await authorization.AuthorizeAsync(http.User, http, ApiKeyDefaults.Policy(ApiKeyScope.Admin));
        return result.Succeeded;
    }
}
