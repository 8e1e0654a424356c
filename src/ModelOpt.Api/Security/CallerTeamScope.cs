using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Security;

/// <summary>
/// The request's team, read at each query from its key's claims (ADR-024): a key sees and creates its own team's work;
/// an admin key sees every team's and creates in its own; a request without a key (the embedded default's open
/// access, <c>/health</c>) is the default team's. The worker endpoints (<see cref="AllTeamsEndpoint"/>) serve every
/// team's jobs. Work outside a request (the embedded worker, the relay, the sweeper) sees every team.
/// </summary>
public sealed class CallerTeamScope(IHttpContextAccessor accessor) : ITeamScope
{
    public Guid? VisibleTeamId => accessor.HttpContext is not { } http
                                  || ApiKeyDefaults.ScopeOf(http.User) == ApiKeyScope.Admin
                                  || http.GetEndpoint()?.Metadata.GetMetadata<AllTeamsEndpoint>() is not null
        ? null
        : OwnerTeamId;

    public Guid OwnerTeamId => accessor.HttpContext is { } http ? ApiKeyDefaults.TeamOf(http.User) ?? Team.DefaultId : Team.DefaultId;
}

/// <summary>Marks the endpoints that act for every team: the shared workers' (they run any team's job).</summary>
public sealed class AllTeamsEndpoint
{
    public static readonly AllTeamsEndpoint Instance = new();
}
