using System.ComponentModel;
using ModelOpt.Api.Infrastructure;

namespace ModelOpt.Api.Security;

/// <summary>A key to create: what it is for and what it may do.</summary>
public sealed record CreateApiKeyRequest(string Name, ApiKeyScope Scope);

/// <summary>A key as listed: never the key itself.</summary>
public sealed record ApiKeyDto(Guid Id, string Name, string Prefix, ApiKeyScope Scope, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>A key just created: <see cref="Key"/> is shown this once and is not stored.</summary>
public sealed record CreatedApiKeyDto(Guid Id, string Name, string Prefix, ApiKeyScope Scope, DateTime CreatedAt, string Key);

public static class ApiKeyEndpoints
{
    public static RouteGroupBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("api/keys").WithTags("API keys").RequireAuthorization(ApiKeyDefaults.Policy(ApiKeyScope.Admin));
        group.MapPost("", CreateKeyAsync)
            .WithName("CreateApiKey")
            .WithSummary("Create an API key (admin)")
            .WithDescription("Answers the key once; only its SHA-256 is stored. Scopes: read (GET), write (also uploads and jobs), admin (also keys and the dashboard).")
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

    public static async Task<Created<CreatedApiKeyDto>> CreateKeyAsync(CreateApiKeyRequest request, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 100)
        {
            throw new RequestValidationException("name", "A key needs a name of 1-100 characters.");
        }
        if (!Enum.IsDefined(request.Scope))
        {
            throw new RequestValidationException("scope", "The scope is read, write or admin.");
        }
        var (row, key) = await keys.CreateAsync(request.Name.Trim(), request.Scope, cancellationToken);
        return TypedResults.Created($"/api/keys/{row.Id}", new CreatedApiKeyDto(row.Id, row.Name, row.Prefix, row.Scope, row.CreatedAt, key));
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

    public static ApiKeyDto ToDto(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.Scope, k.CreatedAt, k.RevokedAt);
}
