using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Contracts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;
using ModelOpt.Jobs.Options;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The Hangfire job: runs one optimization job stage by stage through the engine.
/// <list type="bullet">
/// <item>Only the job id is passed; the row is loaded, claimed through the <see cref="JobStateMachine"/> and is the truth.</item>
/// <item>Reentrant: stages already recorded as completed are skipped, so a retry or a re-queued orphan resumes from the
/// last completed stage in the same work folder; a run that finds the job finished or owned by a live run does nothing.</item>
/// <item>Each completed stage is recorded by the <see cref="StageRecorder"/>; a <see cref="JobMonitor"/> beats and stops
/// the run on a cancel request or when another run has taken the job over.</item>
/// <item>Failures follow the <see cref="JobRetryPolicy"/>.</item>
/// </list>
/// </summary>
public sealed class OptimizationJobRunner(
    IServiceScopeFactory scopes,
    JobStateMachine states,
    IArtifactTransfer files,
    WorkerIdentity identity,
    JobRequestFactory requests,
    StageRecorder recorder,
    IStageRunner stageRunner,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<OptimizationJobRunner> logger)
{
    [AutomaticRetry(Attempts = JobRetryPolicy.MaxAttempts - 1,
        DelaysInSeconds = [JobRetryPolicy.FirstRetryDelaySeconds, JobRetryPolicy.SecondRetryDelaySeconds],
        OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid jobId, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = jobId });
        var executionId = Guid.NewGuid();
        if (!await ClaimAsync(jobId, executionId, cancellationToken))
        {
            return;
        }
        var job = await LoadAsync(jobId, cancellationToken);
        logger.LogInformation("Job {JobId} attempt {Attempt} on {Worker}: {Model} on {Dataset}, device {Device}",
            jobId, job.Attempts, job.WorkerName, job.Model, job.Dataset, job.Device);

        var stages = JobPlan.StagesFor(job);
        var tracker = new ProgressTracker(stages);
        await using var monitor = new JobMonitor(scopes, time, options.Value.PollInterval, logger);
        using var stageToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, monitor.Stopped);
        PipelineStage? current = null;
        try
        {
            var request = await requests.BuildAsync(job, cancellationToken);
            var workDirectory = await files.PrepareWorkDirectoryAsync(jobId, cancellationToken);
            monitor.Start(jobId, executionId, tracker, cancellationToken);
            var completed = job.Stages.Select(s => s.Stage).ToHashSet();
            foreach (var stage in stages.Where(s => !completed.Contains(s)))
            {
                current = stage;
                tracker.StageStarted(stage);
                var startedAt = time.GetUtcNow().UtcDateTime;
                logger.LogInformation("Stage {Stage} started", stage);
                var outcome = await stageRunner.RunStageAsync(stage, request, workDirectory, tracker, stageToken.Token);
                // A finished stage is recorded even if a cancel request arrives meanwhile: its work is not thrown away.
                await recorder.CommitAsync(job, executionId, stage, outcome, startedAt, tracker.PercentAt(stage, 1), CancellationToken.None);
                stageToken.Token.ThrowIfCancellationRequested();
                logger.LogInformation("Stage {Stage} completed in {DurationMs:F0} ms with {Results} results and {Artifacts} artifacts",
                    stage, outcome.Duration.TotalMilliseconds, outcome.Results.Count, outcome.Artifacts.Count);
            }
            await states.FinishAsync(jobId, executionId, JobTrigger.Succeed, null);
            logger.LogInformation("Job {JobId} succeeded", jobId);
        }
        catch (OperationCanceledException) when (monitor.Reason == JobMonitor.StopReason.CancelRequested)
        {
            await states.FinishAsync(jobId, executionId, JobTrigger.CancelRunning, $"Cancelled on request during {current?.ToString() ?? "start-up"}.");
            logger.LogInformation("Job {JobId} cancelled during {Stage}", jobId, current);
        }
        catch (OperationCanceledException) when (monitor.Reason == JobMonitor.StopReason.LostOwnership)
        {
            logger.LogWarning("Job {JobId} was taken over by another run; this run stops", jobId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await states.ReleaseAsync(jobId, executionId);
            logger.LogWarning("Worker shutting down: job {JobId} released during {Stage}; it resumes from its last completed stage", jobId, current);
            throw;
        }
        catch (Exception e) when (JobRetryPolicy.IsInputError(e))
        {
            await states.FinishAsync(jobId, executionId, JobTrigger.Fail, $"{Where(current)}: {JobErrorText.ForInput(e)}");
            logger.LogWarning(e, "Job {JobId} failed on its input in {Stage}: {Detail}", jobId, Where(current), JobErrorText.FullDetail(e));
        }
        catch (Exception e)
        {
            await FailOrRetryAsync(job, executionId, current, e);
            // Hangfire's AutomaticRetry schedules the next attempt, or records the final failure.
            throw;
        }
    }

    private async Task<bool> ClaimAsync(Guid jobId, Guid executionId, CancellationToken cancellationToken)
    {
        var worker = identity.Name;
        var staleBefore = time.GetUtcNow().UtcDateTime - options.Value.HeartbeatTimeout;
        if (await states.ClaimAsync(jobId, executionId, worker, staleBefore, cancellationToken))
        {
            return true;
        }
        // A job re-queued with a cancel request pending (its worker died after the request) ends here, without running.
        var cancelled = await states.CancelQueuedAsync(jobId, "Cancelled on request before it started.", cancellationToken, onlyIfRequested: true);
        logger.LogInformation("Job {JobId} not run by this attempt{Note}", jobId,
            cancelled ? ": cancelled before start" : ": it is finished, cancelled, or owned by a live run");
        return false;
    }

    private async Task<OptimizationJob> LoadAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        return await db.Jobs.AsNoTracking().Include(j => j.Stages).Include(j => j.Checkpoint).Include(j => j.UploadedDataset)
            .SingleAsync(j => j.Id == jobId, cancellationToken);
    }

    private async Task FailOrRetryAsync(OptimizationJob job, Guid executionId, PipelineStage? stage, Exception e)
    {
        var retry = JobRetryPolicy.MayRetry(e, job.Attempts);
        logger.LogError(e, "Job {JobId} attempt {Attempt} failed in {Stage}{Final}", job.Id, job.Attempts, Where(stage), retry ? "; it will be retried" : "; no attempts left");
        var reason = JobErrorText.ForFailure(e, job.Id);
        if (retry)
        {
            await states.RetryAutomaticallyAsync(job.Id, executionId, $"Attempt {job.Attempts} failed in {Where(stage)}: {reason}; retrying.");
        }
        else
        {
            await states.FinishAsync(job.Id, executionId, JobTrigger.Fail, $"{Where(stage)}: {reason} (after {job.Attempts} attempts)");
        }
    }

    private static string Where(PipelineStage? stage) => stage?.ToString() ?? "Start-up";
}
