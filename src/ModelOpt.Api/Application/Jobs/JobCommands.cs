using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>
/// Cancel and retry: the state changes a client asks of an existing job. Each answers the job as it is after the request;
/// a job that does not exist (or is another team's) is a <see cref="NotFoundException"/>, one in the wrong state a <see cref="ConflictException"/>.
/// </summary>
public sealed class JobCommands(ModelOptDbContext db, JobStateMachine states, JobDispatcher dispatcher, DispatchSignal dispatch, TimeProvider time)
{
    /// <summary>Cancels a queued job at once; flags a running one, whose worker stops inside the current stage.</summary>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    /// <exception cref="ConflictException">The job has already finished.</exception>
    public async Task<JobDto> CancelAsync(Guid id, CancellationToken cancellationToken)
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
        return await ReadBackAsync(id, now, cancellationToken);
    }

    /// <summary>Queues a failed or cancelled job again, to resume from its last completed stage.</summary>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    /// <exception cref="ConflictException">The job is neither failed nor cancelled, its checkpoint is gone, or it changed state meanwhile.</exception>
    public async Task<JobDto> RetryAsync(Guid id, CancellationToken cancellationToken)
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
        return await ReadBackAsync(id, now, cancellationToken);
    }

    /// <summary>The job as the state machine's conditional update left it (written outside this context's tracking).</summary>
    private async Task<JobDto> ReadBackAsync(Guid id, DateTime now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return (await JobRows.LoadAsync(db, id, cancellationToken)).ToDto(now);
    }
}
