using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>Queues a failed or cancelled job again, to resume from its last completed stage.</summary>
public sealed class RetryJobHandler(ModelOptDbContext db, JobStateMachine states, DispatchSignal dispatch, TimeProvider time)
{
    /// <summary>The job as it is after the request.</summary>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    /// <exception cref="ConflictException">The job is neither failed nor cancelled, its checkpoint is gone, or it changed state meanwhile.</exception>
    public async Task<JobDto> HandleAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var job = await JobRows.LoadAsync(db, id, cancellationToken);
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            throw new ConflictException($"Only failed or cancelled jobs can be retried; job {id} is {job.Status}.");
        }
        if (!job.TrainFirst && job.CheckpointId is null)
        {
            throw new ConflictException($"Job {id} started from a checkpoint that has since been deleted.");
        }
        if (!await states.RetryAsync(id, job.Stages.Count, cancellationToken))
        {
            throw new ConflictException($"Job {id} changed state meanwhile; try again.");
        }
        dispatch.Notify();
        db.ChangeTracker.Clear();
        job = await JobRows.LoadAsync(db, id, cancellationToken);
        return job.ToDto(now);
    }
}
