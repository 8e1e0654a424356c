using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>How the job use cases read one job's rows.</summary>
internal static class JobRows
{
    /// <summary>
    /// The job with its stages, results and artifacts; null when there is none. Those rows are written only by a run, and
    /// the first claim sets <see cref="OptimizationJob.StartedAt"/>, so a job that never started is read in one query instead of four.
    /// </summary>
    public static async Task<OptimizationJob?> FindAsync(ModelOptDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
        if (job?.StartedAt is null)
        {
            return job;
        }
        job.Stages = await db.JobStages.AsNoTracking().Where(s => s.JobId == id).ToListAsync(cancellationToken);
        job.Results = await db.StageResults.AsNoTracking().Where(r => r.JobId == id).ToListAsync(cancellationToken);
        job.Artifacts = await db.JobArtifacts.AsNoTracking().Where(a => a.JobId == id).ToListAsync(cancellationToken);
        return job;
    }

    /// <exception cref="NotFoundException">No job has that id.</exception>
    public static async Task<OptimizationJob> LoadAsync(ModelOptDbContext db, Guid id, CancellationToken cancellationToken) =>
        await FindAsync(db, id, cancellationToken) ?? throw NotFound(id);

    public static NotFoundException NotFound(Guid id) => new($"Job {id} does not exist.");
}
