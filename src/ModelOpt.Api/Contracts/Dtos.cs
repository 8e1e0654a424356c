using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Api.Contracts;

// Plain comments, not XML docs: the API's XML file feeds Swashbuckle, and these would change the OpenAPI document (ADR-026).

public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);

public sealed record CheckpointDto(
    Guid Id, string FileName, CheckpointFormat Format, string? Model, long SizeBytes, string Sha256, DateTime CreatedAt, string ContentUrl);

public sealed record JobSummaryDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string Device, PipelineStage? CurrentStage, double Progress,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, string? Error, JobHeadline? Headline);

// One row of the notebook's results table.
// Accuracy: Top-1 on the test images; null for a generic job's forms, which carry Fidelity instead.
// Fidelity: Per graph output, against the FP32 model on the same images; null where the form was not compared
// (the FP32 form itself, a classification job's forms).
public sealed record StageResultDto(
    string Backend, string Device, long SizeBytes, double SizeMb, double? Accuracy, int ImagesScored,
    double LatencyMeanMs, double LatencyStdMs, int BatchSize, bool Selected, string? Note, IReadOnlyList<OutputFidelityDto>? Fidelity);

public enum StageState
{
    Pending,
    Running,
    Completed,
}

// One stage of a job; Calibration is the calibrate stage's image sample once that stage has completed, and
// WorkerName / CpuModel say where its results were measured (latencies of different CPUs are not comparable).
public sealed record StageDto(
    PipelineStage Stage, StageState State, DateTime? StartedAt, DateTime? CompletedAt, double? DurationMs, IReadOnlyList<StageResultDto> Results,
    CalibrationSampleDto? Calibration = null, string? WorkerName = null, string? CpuModel = null);

// The images a job calibrated on. Sha256 is the SHA-256 of the dataset's SHA-256 (64 hex characters, ASCII) followed by
// the sorted training-split indices as int64 little-endian: two jobs with the same value calibrated on the same images.
// The full index list is the calibrate stage's artifact calibration-sample.json.
public sealed record CalibrationSampleDto(string Sampling, int Seed, int Images, string DatasetSha256, string Sha256);

// One file of a job; Delivered marks the file that holds the delivered model (the form the job's headline names).
public sealed record ArtifactDto(string Name, PipelineStage Stage, string ContentType, long SizeBytes, string Sha256, string Url, bool Delivered = false);

// A job; Warnings says what keeps a queued job from running (no live worker serves its device).
// EtaSeconds: While the job runs: seconds until its running stage completes, from the stage's measured per-batch rate; otherwise null.
public sealed record JobDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string? DataPath, Guid? CheckpointId, bool TrainFirst, string Device,
    JobSpec Spec, PipelineStage? CurrentStage, double Progress, string? ProgressMessage, double? EtaSeconds,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, double? ElapsedMs,
    string? Error, bool CancelRequested, int Attempts, string? WorkerName, JobHeadline? Headline,
    IReadOnlyList<StageDto> Stages, IReadOnlyList<ArtifactDto> Artifacts, IReadOnlyList<string> Warnings);

// One int8 layer of the per-layer report, most sensitive first (see GET /api/jobs/{id}/layers).
public sealed record JobLayerDto(
    int Rank, string Layer, string Kind, double SqnrDb, double Mse, double ActivationMin, double ActivationMax,
    double OutputScale, long OutputZeroPoint, double? AccuracyGainWhenFloat);

public sealed record ModelDto(string Name, string Description, long ParameterCount, int InputChannels, int Classes);

// A dataset a job can name: built in (by Name) or uploaded (by Id). Path is a built-in dataset's folder
// on the API's machine (null for uploads); TestImages is 0 for an upload that is one set, which each job splits
// (split.testFraction, split.seed); ImageHeight/ImageWidth are null when image sizes vary. Labeled is
// false for an upload of images without class folders or y_* arrays: it has 0 classes and no class names, and serves
// only jobs that compare with the FP32 model (generic jobs, from a checkpoint: training needs labels).
public sealed record DatasetDto(
    string Name, string Description, int InputChannels, int Classes, string? Path, bool Available,
    Guid? Id = null, string Kind = DatasetDto.BuiltIn, IReadOnlyList<string>? ClassNames = null, int? TrainImages = null, int? TestImages = null,
    int? ImageHeight = null, int? ImageWidth = null, string? FileName = null, string? Format = null, long? SizeBytes = null, string? Sha256 = null,
    DateTime? CreatedAt = null, bool Labeled = true)
{
    public const string BuiltIn = "built-in";
    public const string Uploaded = "uploaded";
}
