using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Contracts;

public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);

public sealed record CheckpointDto(
    Guid Id, string FileName, CheckpointFormat Format, string? Model, long SizeBytes, string Sha256, DateTime CreatedAt, string ContentUrl);

public sealed record JobSummaryDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string Device, PipelineStage? CurrentStage, double Progress,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, string? Error, JobHeadline? Headline);

/// <summary>One row of the notebook's results table.</summary>
public sealed record StageResultDto(
    string Backend, string Device, long SizeBytes, double SizeMb, double Accuracy, int ImagesScored,
    double LatencyMeanMs, double LatencyStdMs, int BatchSize, bool Selected, string? Note);

public enum StageState
{
    Pending,
    Running,
    Completed,
}

public sealed record StageDto(
    PipelineStage Stage, StageState State, DateTime? StartedAt, DateTime? CompletedAt, double? DurationMs, IReadOnlyList<StageResultDto> Results);

public sealed record ArtifactDto(string Name, PipelineStage Stage, string ContentType, long SizeBytes, string Sha256, string Url);

public sealed record JobDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string? DataPath, Guid? CheckpointId, bool TrainFirst, string Device,
    JobSpec Spec, PipelineStage? CurrentStage, double Progress, string? ProgressMessage,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, double? ElapsedMs,
    string? Error, bool CancelRequested, int Attempts, string? WorkerName, JobHeadline? Headline,
    IReadOnlyList<StageDto> Stages, IReadOnlyList<ArtifactDto> Artifacts);

/// <summary>One int8 layer of the per-layer report, most sensitive first (see GET /api/jobs/{id}/layers).</summary>
public sealed record JobLayerDto(
    int Rank, string Layer, string Kind, double SqnrDb, double Mse, double ActivationMin, double ActivationMax,
    double OutputScale, long OutputZeroPoint, double? AccuracyGainWhenFloat);

public sealed record ModelDto(string Name, string Description, long ParameterCount, int InputChannels, int Classes);

public sealed record DatasetDto(string Name, string Description, int InputChannels, int Classes, string? Path, bool Available);
