using Microsoft.EntityFrameworkCore.Query;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;
using static ModelOpt.Jobs.Lifecycle.JobTransitions;

namespace ModelOpt.Jobs.Lifecycle;

/// <summary>
/// The only place a job's status changes. Each transition is one conditional update whose guard is the
/// <see cref="JobTransitions"/> table (plus, for a run's own transitions, its execution id), so two actors racing for
/// one job never both win: the update that matches no row is the loser, and says so by returning false.
/// A job that must be handed to a worker is marked <see cref="OptimizationJob.DispatchPending"/> in the same update;
/// the dispatch relay hands it to Hangfire (an outbox: no status change depends on Hangfire being reachable).
/// </summary>
public sealed class JobStateMachine(IServiceScopeFactory scopes, TimeProvider time)
{
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>A new job's row: queued and waiting for dispatch.</summary>
    public OptimizationJob Submit(OptimizationJob job)
    {
        job.Status = To(JobTrigger.Submit);
        job.DispatchPending = true;
        job.ProgressMessage = "Queued";
        return job;
    }

    /// <summary>Takes the job for a run: a queued one, or a running one whose owner stopped beating before <paramref name="staleBefore"/>.</summary>
    public Task<bool> ClaimAsync(Guid jobId, Guid executionId, string worker, DateTime staleBefore, CancellationToken cancellationToken)
    {
        var queued = From(JobTrigger.Claim);
        var running = From(JobTrigger.TakeOver);
        var now = Now;
        return UpdateAsync(
            jobs => jobs.Where(j => j.Id == jobId && !j.CancelRequested
                && (queued.Contains(j.Status) || (running.Contains(j.Status) && (j.HeartbeatAt == null || j.HeartbeatAt < staleBefore)))),
            s => s
                .SetProperty(j => j.Status, To(JobTrigger.Claim))
                .SetProperty(j => j.ExecutionId, executionId)
                .SetProperty(j => j.HeartbeatAt, now)
                .SetProperty(j => j.Attempts, j => j.Attempts + 1)
                .SetProperty(j => j.WorkerName, worker)
                .SetProperty(j => j.DispatchPending, false)
                .SetProperty(j => j.StartedAt, j => j.StartedAt ?? now)
                .SetProperty(j => j.FinishedAt, (DateTime?)null),
            cancellationToken);
    }

    /// <summary>
    /// Cancels a job no run has started: a user's request, or (<paramref name="onlyIfRequested"/>) a queued job whose
    /// cancel request is still pending when a run tries to claim it.
    /// </summary>
    public Task<bool> CancelQueuedAsync(Guid jobId, string reason, CancellationToken cancellationToken, bool onlyIfRequested = false)
    {
        var from = From(JobTrigger.CancelQueued);
        var now = Now;
        return UpdateAsync(
            jobs => jobs.Where(j => j.Id == jobId && from.Contains(j.Status) && (!onlyIfRequested || j.CancelRequested)),
            s => s
                .SetProperty(j => j.Status, To(JobTrigger.CancelQueued))
                .SetProperty(j => j.CancelRequested, true)
                .SetProperty(j => j.DispatchPending, false)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.ProgressMessage, JobStatus.Cancelled.ToString())
                .SetProperty(j => j.Error, reason),
            cancellationToken);
    }

    /// <summary>Flags a running job; its run sees the flag at its next poll and stops with <see cref="FinishAsync"/>.</summary>
    public Task<bool> RequestCancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var from = From(JobTrigger.CancelRunning);
        return UpdateAsync(jobs => jobs.Where(j => j.Id == jobId && from.Contains(j.Status)), s => s.SetProperty(j => j.CancelRequested, true), cancellationToken);
    }

    /// <summary>The owning run's end: <see cref="JobTrigger.Succeed"/>, <see cref="JobTrigger.Fail"/> or <see cref="JobTrigger.CancelRunning"/>.</summary>
    public Task<bool> FinishAsync(Guid jobId, Guid executionId, JobTrigger trigger, string? error)
    {
        if (trigger is not (JobTrigger.Succeed or JobTrigger.Fail or JobTrigger.CancelRunning))
        {
            throw new ArgumentOutOfRangeException(nameof(trigger), trigger, "A run finishes by succeeding, failing or being cancelled.");
        }
        var from = From(trigger);
        var status = To(trigger);
        var succeeded = status == JobStatus.Succeeded;
        var now = Now;
        return UpdateAsync(
            jobs => jobs.Where(j => j.Id == jobId && j.ExecutionId == executionId && from.Contains(j.Status)),
            s => s
                .SetProperty(j => j.Status, status)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.Progress, j => succeeded ? 100 : j.Progress)
                .SetProperty(j => j.ProgressMessage, status.ToString())
                .SetProperty(j => j.CurrentStage, j => succeeded ? null : j.CurrentStage)
                .SetProperty(j => j.ExecutionId, (Guid?)null)
                .SetProperty(j => j.HeartbeatAt, (DateTime?)null),
            CancellationToken.None);
    }

    /// <summary>A failure with attempts left: back to the queue; Hangfire's retry (not the outbox) runs it again.</summary>
    public Task<bool> RetryAutomaticallyAsync(Guid jobId, Guid executionId, string error) =>
        Requeue(JobTrigger.RetryAutomatically, jobs => jobs.Where(j => j.Id == jobId && j.ExecutionId == executionId),
            "Waiting for an automatic retry", error, dispatch: false, CancellationToken.None);

    /// <summary>Graceful shutdown: the job goes back to the queue at once and resumes from its last completed stage.</summary>
    public Task<bool> ReleaseAsync(Guid jobId, Guid executionId) =>
        Requeue(JobTrigger.Release, jobs => jobs.Where(j => j.Id == jobId && j.ExecutionId == executionId),
            "Interrupted by a worker shutdown; resuming from the last completed stage", error: null, dispatch: true, CancellationToken.None);

    /// <summary>A run that died: matched on the heartbeat the sweeper saw, so only one sweeper wins the row.</summary>
    public Task<bool> RequeueOrphanAsync(Guid jobId, DateTime? heartbeatSeen, CancellationToken cancellationToken) =>
        Requeue(JobTrigger.RequeueOrphan, jobs => jobs.Where(j => j.Id == jobId && j.HeartbeatAt == heartbeatSeen),
            "Re-queued: its worker stopped; resuming from the last completed stage", error: null, dispatch: true, cancellationToken);

    /// <summary>A user's retry of a failed or cancelled job: a fresh attempt budget, resuming after the completed stages.</summary>
    public async Task<bool> RetryAsync(Guid jobId, int completedStages, CancellationToken cancellationToken)
    {
        var from = From(JobTrigger.Retry);
        return await UpdateAsync(
            jobs => jobs.Where(j => j.Id == jobId && from.Contains(j.Status)),
            s => s
                .SetProperty(j => j.Status, To(JobTrigger.Retry))
                .SetProperty(j => j.CancelRequested, false)
                .SetProperty(j => j.Error, (string?)null)
                .SetProperty(j => j.FinishedAt, (DateTime?)null)
                .SetProperty(j => j.Attempts, 0)
                .SetProperty(j => j.DispatchPending, true)
                .SetProperty(j => j.ProgressMessage, $"Queued to resume after {completedStages} completed stage(s)"),
            cancellationToken);
    }

    private Task<bool> Requeue(
        JobTrigger trigger, Func<IQueryable<OptimizationJob>, IQueryable<OptimizationJob>> rows, string message, string? error, bool dispatch,
        CancellationToken cancellationToken)
    {
        var from = From(trigger);
        return UpdateAsync(
            jobs => rows(jobs).Where(j => from.Contains(j.Status)),
            s =>
            {
                s.SetProperty(j => j.Status, To(trigger))
                    .SetProperty(j => j.ExecutionId, (Guid?)null)
                    .SetProperty(j => j.HeartbeatAt, (DateTime?)null)
                    .SetProperty(j => j.DispatchPending, dispatch)
                    .SetProperty(j => j.ProgressMessage, message);
                if (error is not null)
                {
                    s.SetProperty(j => j.Error, error);
                }
            },
            cancellationToken);
    }

    private async Task<bool> UpdateAsync(
        Func<IQueryable<OptimizationJob>, IQueryable<OptimizationJob>> rows, Action<UpdateSettersBuilder<OptimizationJob>> set, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        return await rows(db.Jobs).ExecuteUpdateAsync(set, cancellationToken) == 1;
    }
}
