using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Application.Checkpoints;

/// <summary>What the endpoints and the pages read about uploaded checkpoints (ADR-026), newest first.</summary>
public sealed class CheckpointQueries(ModelOptDbContext db)
{
    /// <exception cref="RequestValidationException">The page or its size is out of range.</exception>
    public async Task<PagedResult<CheckpointDto>> ListAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        Paging.Check(page, pageSize);
        var query = db.Checkpoints.AsNoTracking();
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new PagedResult<CheckpointDto>(rows.Select(ToDto).ToList(), page, pageSize, total);
    }

    /// <summary>Every checkpoint (the new-job page's list).</summary>
    public async Task<IReadOnlyList<CheckpointDto>> ListAllAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Checkpoints.AsNoTracking().OrderByDescending(c => c.CreatedAt).ToListAsync(cancellationToken);
        return rows.Select(ToDto).ToList();
    }

    /// <exception cref="NotFoundException">No checkpoint has that id.</exception>
    public async Task<CheckpointDto> GetAsync(Guid id, CancellationToken cancellationToken) => ToDto(await LoadAsync(db, id, cancellationToken));

    /// <summary>The checkpoint's row (another team's is not found either: ADR-024).</summary>
    /// <exception cref="NotFoundException">No checkpoint has that id.</exception>
    public static async Task<Checkpoint> LoadAsync(ModelOptDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken)
        ?? throw new NotFoundException($"Checkpoint {id} does not exist.");

    public static CheckpointDto ToDto(Checkpoint c) =>
        new(c.Id, c.FileName, c.Format, c.Model, c.SizeBytes, c.Sha256, c.CreatedAt, $"/api/checkpoints/{c.Id}/content");
}
