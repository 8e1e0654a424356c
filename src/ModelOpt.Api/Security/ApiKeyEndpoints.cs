using System.ComponentModel;
using ModelOpt.Api.Infrastructure;

namespace ModelOpt.Api.Security;

/// <summary>A key to create: what it is for, what it may do, and the team it acts for.</summary>
/// <param name="Name">What the key is for.</param>
/// <param name="Scope">What the key may do.</param>
/// <param name="Team">The team the key acts for: it sees and creates that team's checkpoints, datasets and jobs. A new name creates
/// the team. Null (or left out): the calling admin key's team.</param>
public sealed record CreateApiKeyRequest(string Name, ApiKeyScope Scope, string? Team = null);

/// <summary>A key as listed: never the key itself.</summary>
public sealed record ApiKeyDto(Guid Id, string Name, string Prefix, ApiKeyScope Scope, string Team, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>A key just created: <see cref="Key"/> is shown this once and is not stored.</summary>
public sealed record CreatedApiKeyDto(Guid Id, string Name, string Prefix, ApiKeyScope Scope, string Team, DateTime CreatedAt, string Key);

public static class ApiKeyEndpoints
{
    public static RouteGroupBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("api/keys").WithTags("API keys").RequireAuthorization(ApiKeyDefaults.Policy(ApiKeyScope.Admin));
        group.MapPost("", CreateKeyAsync)
            .WithName("CreateApiKey")
            .WithSummary("Create an API key (admin)")
            .WithDescription("Answers the key once; only its SHA-256 is stored. Scopes: read (GET), write (also uploads and jobs), admin (also keys and the dashboard). "
                             + "Every key acts for a team (team: a name; a new name creates the team; left out, the admin key's own team): it sees only "
                             + "that team's checkpoints, datasets and jobs (another team's answer 404) and what it creates belongs to that team. An admin "
                             + "key sees every team's and moves a resource with PUT /api/{checkpoints|datasets|jobs}/{id}/team.")
            .ProducesValidationProblem();
        group.MapGet("", ListKeysAsync)
            .WithName("ListApiKeys")
            .WithSummary("List API keys (admin): names, prefixes, scopes, revocations; never the keys");
        group.MapDelete("{id:guid}", RevokeKeyAsync)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke an API key (admin); it is refused from then on")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Created<CreatedApiKeyDto>> CreateKeyAsync(
        CreateApiKeyRequest request, ApiKeyStore keys, HttpContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 100 || request.Name.Any(char.IsControl))
        {
            throw new RequestValidationException("name", "A key needs a name of 1-100 printable characters (no control characters such as NUL).");
        }
        if (!Enum.IsDefined(request.Scope))
        {
            throw new RequestValidationException("scope", "The scope is read, write or admin.");
        }
        if (request.Team is not null && Team.NameProblem(request.Team) is { } teamProblem)
        {
            throw new RequestValidationException("team", teamProblem);
        }
        var team = request.Team?.Trim() ?? await keys.TeamNameAsync(ApiKeyDefaults.TeamOf(context.User) ?? Team.DefaultId, cancellationToken);
        var (row, key) = await keys.CreateAsync(request.Name.Trim(), request.Scope, team, cancellationToken);
        return TypedResults.Created($"/api/keys/{row.Id}", new CreatedApiKeyDto(row.Id, row.Name, row.Prefix, row.Scope, row.Team!.Name, row.CreatedAt, key));
    }

    public static async Task<Ok<PagedResult<ApiKeyDto>>> ListKeysAsync(
        ApiKeyStore keys, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize)
    {
        Paging.Check(page, pageSize);
        IReadOnlyList<ApiKeyDto> rows = (await keys.ListAsync(cancellationToken)).Select(ToDto).ToList();
        return TypedResults.Ok(Paging.Of(rows, page, pageSize));
    }

    public static async Task<NoContent> RevokeKeyAsync(Guid id, ApiKeyStore keys, CancellationToken cancellationToken) =>
        await keys.RevokeAsync(id, cancellationToken) ? TypedResults.NoContent() : throw new NotFoundException($"API key {id} does not exist.");

    public static ApiKeyDto ToDto(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.Scope, k.Team!.Name, k.CreatedAt, k.RevokedAt);
}
