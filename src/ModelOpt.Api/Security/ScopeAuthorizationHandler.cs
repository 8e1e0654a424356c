using Microsoft.AspNetCore.Authorization;

namespace ModelOpt.Api.Security;

/// <summary>Grants a <see cref="ScopeRequirement"/> to a key of that scope or more, or to anyone while <see cref="OpenAccess"/> allows it.</summary>
public sealed class ScopeAuthorizationHandler(OpenAccess openAccess) : AuthorizationHandler<ScopeRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (ApiKeyDefaults.ScopeOf(context.User) is { } scope ? scope >= requirement.Scope
            : context.Resource is HttpContext http && await openAccess.AllowsAsync(http))
        {
            context.Succeed(requirement);
        }
    }
}
