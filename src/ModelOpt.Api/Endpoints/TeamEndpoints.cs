using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Endpoints;

/// <summary>The team to move a checkpoint, dataset or job to.</summary>
/// <param name="Team">An existing team's name (a team is created with its first key, POST /api/keys).</param>
public sealed record MoveToTeamRequest(string Team);

/// <summary>
/// Admin keys move a checkpoint, dataset or job to another team: from then on only that team (and admins) sees it. A job
/// moves with its stages, results, layers and artifacts; the checkpoint and dataset it used stay where they are.
/// </summary>
public static class TeamEndpoints
{
    public static IEndpointRouteBuilder MapTeamEndpoints(this IEndpointRouteBuilder routes)
    {
        Map(routes, "api/checkpoints", "Checkpoints", "MoveCheckpointToTeam", "checkpoint",
            (db, id, team) => db.Checkpoints.Where(c => c.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.TeamId, team).SetProperty(c => c.IdempotencyKey, (string?)null)));
        Map(routes, "api/datasets", "Datasets", "MoveDatasetToTeam", "dataset",
            (db, id, team) => db.Datasets.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.TeamId, team).SetProperty(d => d.IdempotencyKey, (string?)null)));
        Map(routes, "api/jobs", "Jobs", "MoveJobToTeam", "job",
            (db, id, team) => db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.TeamId, team).SetProperty(j => j.IdempotencyKey, (string?)null)));
        return routes;
    }

    private static void Map(IEndpointRouteBuilder routes, string prefix, string tag, string name, string kind,
        Func<ModelOptDbContext, Guid, Guid, Task<int>> move)
    {
        routes.MapPut($"{prefix}/{{id:guid}}/team", async (Guid id, MoveToTeamRequest request, ModelOptDbContext db, CancellationToken cancellationToken) =>
            {
                if (Team.NameProblem(request.Team) is { } problem)
                {
                    throw new RequestValidationException("team", problem);
                }
                var name = request.Team.Trim();
                var team = await db.Teams.Where(t => t.Name == name).Select(t => (Guid?)t.Id).SingleOrDefaultAsync(cancellationToken)
                           ?? throw new RequestValidationException("team", $"No team '{name}': a team is created with its first key (POST /api/keys).");
                // The row's Idempotency-Key was its old team's: cleared, so that neither team's retry finds a row it cannot see.
                return await move(db, id, team) == 1 ? TypedResults.NoContent() : throw new NotFoundException($"The {kind} {id} does not exist.");
            })
            .WithTags(tag)
            .WithName(name)
            .WithSummary($"Move a {kind} to another team (admin)")
            .WithDescription($"From then on the {kind} belongs to that team: its keys see it, other teams' keys get 404. Admin keys see every team's.")
            .RequireAuthorization(ApiKeyDefaults.Policy(ApiKeyScope.Admin))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
