using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Api.Application.Jobs;

internal static class JobMapping
{
    public static JobSummaryDto ToSummary(this OptimizationJob j) =>
        new(j.Id, j.Status, j.Model, j.Dataset, j.Device, j.CurrentStage, j.Progress, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Error,
            JobHeadline.From(j.Results));

    public static ArtifactDto ToDto(this JobArtifact a, string? deliveredFile) =>
        new(a.Name, a.Stage, a.ContentType, a.SizeBytes, a.Sha256, $"/api/jobs/{a.JobId}/artifacts/{Uri.EscapeDataString(a.Name)}", a.Name == deliveredFile);

    /// <summary>The job's files, the one that holds the delivered model marked.</summary>
    public static IReadOnlyList<ArtifactDto> ArtifactDtos(this OptimizationJob j)
    {
        var delivered = JobHeadline.From(j.Results)?.DeliveredArtifact;
        return j.Artifacts.OrderBy(a => a.Stage).ThenBy(a => a.Name).Select(a => a.ToDto(delivered)).ToList();
    }

    public static JobDto ToDto(this OptimizationJob j, DateTime now, IReadOnlyList<string>? warnings = null)
    {
        var planned = JobPlan.StagesFor(j).Union(j.Stages.Select(s => s.Stage)).OrderBy(s => s).ToList();
        var stages = planned.Select(stage =>
        {
            var done = j.Stages.FirstOrDefault(s => s.Stage == stage);
            var results = j.Results.Where(r => r.Stage == stage).OrderBy(r => r.Ordinal)
                .Select(r => new StageResultDto(r.Backend, r.Device, r.SizeBytes, Math.Round(r.SizeBytes / 1e6, 3), r.Accuracy, r.ImagesScored,
                    r.LatencyMeanMs, r.LatencyStdMs, r.BatchSize, r.Selected, r.Note, OutputFidelityDto.From(r.Fidelity)))
                .ToList();
            var state = done is not null ? StageState.Completed
                : j.Status == JobStatus.Running && j.CurrentStage == stage ? StageState.Running
                : StageState.Pending;
            var calibration = done is { CalibrationSampleSha256: { } sampleSha256 }
                ? new CalibrationSampleDto(done.CalibrationSampling ?? "", done.CalibrationSeed ?? 0, done.CalibrationImages ?? 0, done.DatasetSha256 ?? "", sampleSha256)
                : null;
            return new StageDto(stage, state, done?.StartedAt, done?.CompletedAt, done?.DurationMs, results, calibration, done?.WorkerName, done?.CpuModel);
        }).ToList();
        double? elapsed = j.StartedAt is { } started ? ((j.FinishedAt ?? now) - started).TotalMilliseconds : null;
        return new JobDto(j.Id, j.Status, j.Model, j.Dataset, j.DataPath, j.CheckpointId, j.TrainFirst, j.Device, j.Spec,
            j.CurrentStage, j.Progress, j.ProgressMessage, j.Status == JobStatus.Running ? j.EtaSeconds : null, j.CreatedAt, j.StartedAt, j.FinishedAt, elapsed,
            j.Error, j.CancelRequested, j.Attempts, j.WorkerName, JobHeadline.From(j.Results), stages,
            j.ArtifactDtos(), warnings ?? []);
    }

    public static IEnumerable<PipelineStage> Completed(this OptimizationJob j) => j.Stages.Select(s => s.Stage);
}
