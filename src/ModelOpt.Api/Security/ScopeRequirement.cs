using Microsoft.AspNetCore.Authorization;

namespace ModelOpt.Api.Security;

/// <summary>The endpoint needs a key of at least this scope (admin includes write, write includes read).</summary>
public sealed record ScopeRequirement(ApiKeyScope Scope) : IAuthorizationRequirement;
