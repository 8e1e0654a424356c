using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The Hangfire job: runs one optimization job stage by stage through the engine.
/// <list type="bullet">
/// <item>Only the job id is passed; the row is loaded, claimed (status, execution id, heartbeat) and is the truth.</item>
/// <item>Reentrant: stages already recorded as completed are skipped, so a retry or a re-queued orphan resumes from the
/// last completed stage in the same work folder; a run that finds the job finished or owned by a live run does nothing.</item>
/// <item>After every stage its files are copied into the artifact store (temporary file, hashed, moved into place), then
/// the stage row, its results and its artifact rows are committed together.</item>
/// <item>A monitor polls the cancel flag, writes heartbeat and progress, and cancels the stage's token on a cancel request
/// or when another run has taken the job over.</item>
/// <item>Retries: input errors fail at once; other errors are retried by Hangfire <see cref="MaxAttempts"/> - 1 times.</item>
/// </list>
/// </summary>
public sealed class OptimizationJobRunner(
    IServiceScopeFactory scopes,
    ArtifactStore store,
    DatasetLocations datasets,
    IOptions<WorkerOptions> options,
    IOptions<DatasetUploadOptions> datasetUploads,
    TimeProvider time,
    ILogger<OptimizationJobRunner> logger,
    IStageRunner? stageRunner = null)
{
    public const int MaxAttempts = 3;

    private enum StopReason
    {
        None,
        CancelRequested,
        LostOwnership,
    }

    [AutomaticRetry(Attempts = MaxAttempts - 1, DelaysInSeconds = [2, 10], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid jobId, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = jobId });
        var executionId = Guid.NewGuid();
        if (!await ClaimAsync(jobId, executionId, cancellationToken))
        {
            return;
        }

        OptimizationJob job;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            job = await db.Jobs.AsNoTracking().Include(j => j.Stages).Include(j => j.Checkpoint).Include(j => j.UploadedDataset).SingleAsync(j => j.Id == jobId, cancellationToken);
        }
        logger.LogInformation("Job {JobId} attempt {Attempt} on {Worker}: {Model} on {Dataset}, device {Device}",
            jobId, job.Attempts, job.WorkerName, job.Model, job.Dataset, job.Device);

        if (stageRunner is null)
        {
            await FinishAsync(jobId, executionId, JobStatus.Failed,
                "This build of the worker has no engine pipeline wired (IStageRunner is not registered).", CancellationToken.None);
            return;
        }

        OptimizationRequest request;
        try
        {
            request = BuildRequest(job);
        }
        catch (PipelineInputRejectedException e)
        {
            await FinishAsync(jobId, executionId, JobStatus.Failed, JobErrorText.ForInput(e), CancellationToken.None);
            return;
        }

        var stages = stageRunner.StagesFor(request).Where(s => s != PipelineStage.Compile || job.Spec.Compile.Enabled).ToList();
        var completed = job.Stages.Select(s => s.Stage).ToHashSet();
        var tracker = new ProgressTracker(stages);
        var workDirectory = store.WorkDirectory(jobId);
        Directory.CreateDirectory(workDirectory);

        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
        var reason = StopReason.None;
        var monitor = MonitorAsync(jobId, executionId, tracker, r => { reason = r; stop.Cancel(); }, linked.Token);

        PipelineStage? current = null;
        try
        {
            foreach (var stage in stages)
            {
                if (completed.Contains(stage))
                {
                    logger.LogInformation("Stage {Stage} already completed; skipped", stage);
                    continue;
                }
                current = stage;
                tracker.StageStarted(stage);
                var startedAt = time.GetUtcNow().UtcDateTime;
                logger.LogInformation("Stage {Stage} started", stage);
                var outcome = await stageRunner.RunStageAsync(stage, request, workDirectory, tracker, linked.Token);
                // A finished stage is recorded even if a cancel request arrives meanwhile: its work is not thrown away.
                await CommitStageAsync(job, executionId, stage, outcome, startedAt, tracker.PercentAt(stage, 1), CancellationToken.None);
                linked.Token.ThrowIfCancellationRequested();
                logger.LogInformation("Stage {Stage} completed in {DurationMs:F0} ms with {Results} results and {Artifacts} artifacts",
                    stage, outcome.Duration.TotalMilliseconds, outcome.Results.Count, outcome.Artifacts.Count);
            }
            await stop.CancelAsync();
            await monitor;
            await FinishAsync(jobId, executionId, JobStatus.Succeeded, null, CancellationToken.None);
            logger.LogInformation("Job {JobId} succeeded", jobId);
        }
        catch (OperationCanceledException) when (reason == StopReason.CancelRequested)
        {
            await monitor;
            await FinishAsync(jobId, executionId, JobStatus.Cancelled, $"Cancelled on request during {current?.ToString() ?? "start-up"}.", CancellationToken.None);
            logger.LogInformation("Job {JobId} cancelled during {Stage}", jobId, current);
        }
        catch (OperationCanceledException) when (reason == StopReason.LostOwnership)
        {
            await monitor;
            logger.LogWarning("Job {JobId} was taken over by another run; this run stops", jobId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await monitor;
            await ReleaseAsync(jobId, executionId);
            logger.LogWarning("Worker shutting down: job {JobId} released during {Stage}; it resumes from its last completed stage", jobId, current);
            throw;
        }
        catch (PipelineInputRejectedException e)
        {
            await stop.CancelAsync();
            await monitor;
            await FinishAsync(jobId, executionId, JobStatus.Failed, $"{current}: {JobErrorText.ForInput(e)}", CancellationToken.None);
            logger.LogWarning(e, "Job {JobId} failed on its input in {Stage}: {Detail}", jobId, current, JobErrorText.FullDetail(e));
        }
        catch (Exception e)
        {
            await stop.CancelAsync();
            await monitor;
            var final = job.Attempts >= MaxAttempts;
            logger.LogError(e, "Job {JobId} attempt {Attempt} failed in {Stage}{Final}", jobId, job.Attempts, current, final ? "; no attempts left" : "; it will be retried");
            if (final)
            {
                await FinishAsync(jobId, executionId, JobStatus.Failed, $"{current}: {JobErrorText.ForFailure(e, jobId)} (after {job.Attempts} attempts)", CancellationToken.None);
            }
            else
            {
                await RequeueForRetryAsync(jobId, executionId, $"Attempt {job.Attempts} failed in {current}: {JobErrorText.ForFailure(e, jobId)}; retrying.");
            }
            throw;
        }
    }

    private OptimizationRequest BuildRequest(OptimizationJob job)
    {
        string? checkpointPath = null;
        if (!job.TrainFirst)
        {
            if (job.Checkpoint is null)
            {
                throw new PipelineInputRejectedException("The job's checkpoint has been deleted.");
            }
            checkpointPath = store.FullPath(job.Checkpoint.RelativePath);
            if (!File.Exists(checkpointPath))
            {
                throw new PipelineInputRejectedException($"The checkpoint file {job.Checkpoint.Id} is missing from the artifact store.");
            }
        }
        var spec = job.Spec;
        var uploaded = UploadedDatasetOf(job);
        var dataPath = uploaded is not null ? null : job.DataPath ?? (datasets.Find(job.Dataset) is { } dataset ? datasets.DefaultPath(dataset) : null);
        return new OptimizationRequest(job.Model, job.Dataset, dataPath, checkpointPath,
            spec.Training.ToEngine(), spec.Quantization.ToEngine(), spec.Evaluation.ToEngine(), job.Device,
            uploaded, spec.Preprocessing.ToEngine(), spec.Split.ToEngine());
    }

    private UploadedDatasetFile? UploadedDatasetOf(OptimizationJob job)
    {
        if (!job.UsesUploadedDataset)
        {
            return null;
        }
        if (job.UploadedDataset is not { } dataset)
        {
            throw new PipelineInputRejectedException($"The job's dataset '{job.Dataset}' has been deleted.");
        }
        var path = store.FullPath(dataset.RelativePath);
        if (!File.Exists(path))
        {
            throw new PipelineInputRejectedException($"The file of dataset {dataset.Id} ({dataset.FileName}) is missing from the artifact store.");
        }
        return dataset.ToEngine(path, datasetUploads.Value.ToLimits());
    }

    /// <summary>Takes the job for this run: only a queued job, or a running one whose owner stopped beating, can be taken.</summary>
    private async Task<bool> ClaimAsync(Guid jobId, Guid executionId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var staleBefore = now - options.Value.HeartbeatTimeout;
        var worker = $"{Environment.MachineName}:{Environment.ProcessId}:{options.Value.Device}";
        var claimed = await db.Jobs
            .Where(j => j.Id == jobId && !j.CancelRequested
                        && (j.Status == JobStatus.Queued || (j.Status == JobStatus.Running && (j.HeartbeatAt == null || j.HeartbeatAt < staleBefore))))
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Running)
                .SetProperty(j => j.ExecutionId, executionId)
                .SetProperty(j => j.HeartbeatAt, now)
                .SetProperty(j => j.Attempts, j => j.Attempts + 1)
                .SetProperty(j => j.WorkerName, worker)
                .SetProperty(j => j.StartedAt, j => j.StartedAt ?? now)
                .SetProperty(j => j.FinishedAt, (DateTime?)null), cancellationToken);
        if (claimed == 1)
        {
            return true;
        }
        // A queued job whose cancel request arrived first is cancelled here, without running.
        var cancelled = await db.Jobs
            .Where(j => j.Id == jobId && j.CancelRequested && j.Status == JobStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Cancelled)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.Error, "Cancelled on request before it started."), cancellationToken);
        var status = await db.Jobs.Where(j => j.Id == jobId).Select(j => (JobStatus?)j.Status).SingleOrDefaultAsync(cancellationToken);
        logger.LogInformation("Job {JobId} not run by this attempt: {Status}{Note}", jobId, status?.ToString() ?? "no such job",
            cancelled == 1 ? " (cancelled before start)" : status == JobStatus.Running ? " (a live run owns it)" : "");
        return false;
    }

    private async Task MonitorAsync(Guid jobId, Guid executionId, ProgressTracker tracker, Action<StopReason> stopWith, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
                    var snapshot = tracker.Current;
                    var now = time.GetUtcNow().UtcDateTime;
                    var updated = await db.Jobs
                        .Where(j => j.Id == jobId && j.ExecutionId == executionId)
                        .ExecuteUpdateAsync(s => s
                            .SetProperty(j => j.HeartbeatAt, now)
                            .SetProperty(j => j.CurrentStage, snapshot.Stage)
                            .SetProperty(j => j.Progress, snapshot.Percent)
                            .SetProperty(j => j.ProgressMessage, snapshot.Message)
                            .SetProperty(j => j.EtaSeconds, snapshot.EtaSeconds), cancellationToken);
                    if (updated == 0)
                    {
                        stopWith(StopReason.LostOwnership);
                        return;
                    }
                    if (await db.Jobs.AnyAsync(j => j.Id == jobId && j.CancelRequested, cancellationToken))
                    {
                        logger.LogInformation("Cancel requested for job {JobId}", jobId);
                        stopWith(StopReason.CancelRequested);
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A database hiccup must not kill the stage; the next tick tries again.
                    logger.LogWarning(e, "Heartbeat of job {JobId} failed", jobId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended or is stopping.
        }
    }

    private async Task CommitStageAsync(
        OptimizationJob job, Guid executionId, PipelineStage stage, StageOutcome outcome, DateTime startedAt, double percent, CancellationToken cancellationToken)
    {
        // Files first (each one complete and hashed before it is visible); the rows that reference them come after, together.
        var stored = new List<(StageArtifact Source, StoredFile File)>();
        foreach (var artifact in outcome.Artifacts)
        {
            var relative = ArtifactStore.JobArtifactPath(job.Id, $"{stage}/{artifact.Name}");
            stored.Add((artifact, await store.ImportAsync(artifact.Path, relative, cancellationToken)));
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var owned = await db.Jobs
            .Where(j => j.Id == job.Id && j.ExecutionId == executionId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.HeartbeatAt, now)
                .SetProperty(j => j.CurrentStage, stage)
                .SetProperty(j => j.Progress, percent)
                .SetProperty(j => j.ProgressMessage, $"{stage}: completed"), cancellationToken);
        if (owned == 0)
        {
            throw new OperationCanceledException("Another run owns the job.");
        }
        db.JobStages.Add(new JobStage
        {
            JobId = job.Id,
            Stage = stage,
            StartedAt = startedAt,
            CompletedAt = now,
            DurationMs = outcome.Duration.TotalMilliseconds,
            Attempt = job.Attempts,
            WorkerName = job.WorkerName,
            CalibrationSampling = outcome.Calibration?.Sampling.ToString().ToLowerInvariant(),
            CalibrationSeed = outcome.Calibration?.Seed,
            CalibrationImages = outcome.Calibration?.Count,
            CalibrationSampleSha256 = outcome.Calibration?.Sha256,
            DatasetSha256 = outcome.Calibration?.DatasetSha256,
        });
        var ordinal = 0;
        foreach (var m in outcome.Results)
        {
            db.StageResults.Add(new StageResult
            {
                JobId = job.Id,
                Stage = stage,
                Ordinal = ordinal++,
                Backend = m.Backend,
                Device = m.Device,
                SizeBytes = m.SizeBytes,
                Accuracy = m.Accuracy,
                ImagesScored = m.ImagesScored,
                LatencyMeanMs = m.LatencyMeanMs,
                LatencyStdMs = m.LatencyStdMs,
                BatchSize = m.BatchSize,
                Selected = m.Selected,
                Note = m.Note,
                StageDurationMs = outcome.Duration.TotalMilliseconds,
            });
        }
        if (outcome.Layers is { } layers)
        {
            // A re-run calibrate stage replaces the report.
            await db.JobLayers.Where(l => l.JobId == job.Id).ExecuteDeleteAsync(cancellationToken);
            db.JobLayers.AddRange(layers.Select((l, rank) => new JobLayer
            {
                JobId = job.Id,
                Rank = rank,
                Layer = l.Layer,
                Kind = l.Kind,
                SqnrDb = l.SqnrDb,
                Mse = l.Mse,
                ActivationMin = l.ActivationMin,
                ActivationMax = l.ActivationMax,
                OutputScale = l.OutputScale,
                OutputZeroPoint = l.OutputZeroPoint,
                AccuracyGainWhenFloat = l.AccuracyGainWhenFloat,
            }));
        }
        var names = stored.Select(s => s.Source.Name).ToList();
        // A later stage may publish a newer file under an earlier stage's name (e.g. a manifest): the latest one is offered.
        await db.JobArtifacts.Where(a => a.JobId == job.Id && names.Contains(a.Name)).ExecuteDeleteAsync(cancellationToken);
        foreach (var (source, file) in stored)
        {
            db.JobArtifacts.Add(new JobArtifact
            {
                JobId = job.Id,
                Stage = stage,
                Name = source.Name,
                ContentType = source.ContentType,
                RelativePath = file.RelativePath,
                SizeBytes = file.SizeBytes,
                Sha256 = file.Sha256,
                CreatedAt = now,
            });
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task FinishAsync(Guid jobId, Guid executionId, JobStatus status, string? error, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        await db.Jobs
            .Where(j => j.Id == jobId && j.ExecutionId == executionId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, status)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.Progress, j => status == JobStatus.Succeeded ? 100 : j.Progress)
                .SetProperty(j => j.ProgressMessage, status.ToString())
                .SetProperty(j => j.CurrentStage, j => status == JobStatus.Succeeded ? null : j.CurrentStage)
                .SetProperty(j => j.ExecutionId, (Guid?)null)
                .SetProperty(j => j.HeartbeatAt, (DateTime?)null), cancellationToken);
    }

    /// <summary>Graceful shutdown: the job stays Running without an owner, so the next worker to sweep re-queues it at once.</summary>
    private async Task ReleaseAsync(Guid jobId, Guid executionId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        await db.Jobs
            .Where(j => j.Id == jobId && j.ExecutionId == executionId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ExecutionId, (Guid?)null)
                .SetProperty(j => j.HeartbeatAt, (DateTime?)null)
                .SetProperty(j => j.ProgressMessage, "Interrupted by a worker shutdown; waiting to resume"), CancellationToken.None);
    }

    private async Task RequeueForRetryAsync(Guid jobId, Guid executionId, string error)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        await db.Jobs
            .Where(j => j.Id == jobId && j.ExecutionId == executionId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Queued)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.ProgressMessage, "Waiting for an automatic retry")
                .SetProperty(j => j.ExecutionId, (Guid?)null)
                .SetProperty(j => j.HeartbeatAt, (DateTime?)null), CancellationToken.None);
    }
}
