using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>Cancels a queued or running job: a queued one at once, a running one by a flag its worker reads inside the current stage.</summary>
public sealed class CancelJobHandler(ModelOptDbContext db, JobStateMachine states, JobDispatcher dispatcher, TimeProvider time)
{
    /// <summary>The job as it is after the request.</summary>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    /// <exception cref="ConflictException">The job has already finished.</exception>
    public async Task<JobDto> HandleAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var job = await JobRows.LoadAsync(db, id, cancellationToken);
        if (job.Status.IsFinished())
        {
            throw new ConflictException($"Job {id} is already {job.Status}.");
        }
        // Conditional updates: the worker may claim the job between our read and our write.
        if (await states.CancelQueuedAsync(id, "Cancelled on request before it started.", cancellationToken))
        {
            dispatcher.TryDelete(job.HangfireJobId);
        }
        else
        {
            await states.RequestCancelAsync(id, cancellationToken);
        }
        db.ChangeTracker.Clear();
        job = await JobRows.LoadAsync(db, id, cancellationToken);
        return job.ToDto(now);
    }
}
