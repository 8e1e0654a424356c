using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Records a completed stage: its files are stored first through <see cref="IArtifactTransfer"/> (shared folder or API;
/// each one complete and hashed before it is visible), then the stage row, its results, its layer report and its artifact rows are committed together, and
/// only while this run still owns the job.
/// </summary>
public sealed class StageRecorder(IServiceScopeFactory scopes, IArtifactTransfer files, WorkerIdentity identity, TimeProvider time)
{
    public async Task CommitAsync(
        OptimizationJob job, Guid executionId, PipelineStage stage, StageOutcome outcome, DateTime startedAt, double percent, CancellationToken cancellationToken)
    {
        var stored = new List<(StageArtifact Source, StoredFile File)>();
        foreach (var artifact in outcome.Artifacts)
        {
            var relative = ArtifactStore.JobArtifactPath(job.Id, $"{stage}/{artifact.Name}");
            stored.Add((artifact, await files.PublishAsync(artifact.Path, relative, executionId, cancellationToken)));
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
            CpuModel = identity.Cpu.Model,
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
                Fidelity = m.Fidelity?.ToList(),
            });
        }
        if (outcome.Layers is { } layers)
        {
            // A re-run convert stage replaces the report.
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
}
