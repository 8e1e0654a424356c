using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Contracts;

public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);

public sealed record CheckpointDto(
    Guid Id, string FileName, CheckpointFormat Format, string? Model, long SizeBytes, string Sha256, DateTime CreatedAt, string ContentUrl);

public sealed record JobSummaryDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string Device, PipelineStage? CurrentStage, double Progress,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, string? Error, JobHeadline? Headline);

/// <summary>One row of the notebook's results table.</summary>
/// <param name="Accuracy">Top-1 on the test images; null for a generic job's forms, which carry <paramref name="Fidelity"/> instead.</param>
/// <param name="Fidelity">Per graph output, against the FP32 model on the same images; null where the form was not compared
/// (the FP32 form itself, a classification job's forms).</param>
public sealed record StageResultDto(
    string Backend, string Device, long SizeBytes, double SizeMb, double? Accuracy, int ImagesScored,
    double LatencyMeanMs, double LatencyStdMs, int BatchSize, bool Selected, string? Note, IReadOnlyList<OutputFidelityDto>? Fidelity);

public enum StageState
{
    Pending,
    Running,
    Completed,
}

/// <summary>
/// One stage of a job; <c>Calibration</c> is the calibrate stage's image sample once that stage has completed, and
/// <c>WorkerName</c> / <c>CpuModel</c> say where its results were measured (latencies of different CPUs are not comparable).
/// </summary>
public sealed record StageDto(
    PipelineStage Stage, StageState State, DateTime? StartedAt, DateTime? CompletedAt, double? DurationMs, IReadOnlyList<StageResultDto> Results,
    CalibrationSampleDto? Calibration = null, string? WorkerName = null, string? CpuModel = null);

/// <summary>
/// The images a job calibrated on. <c>Sha256</c> is the SHA-256 of the dataset's SHA-256 (64 hex characters, ASCII) followed by
/// the sorted training-split indices as int64 little-endian: two jobs with the same value calibrated on the same images.
/// The full index list is the calibrate stage's artifact <c>calibration-sample.json</c>.
/// </summary>
public sealed record CalibrationSampleDto(string Sampling, int Seed, int Images, string DatasetSha256, string Sha256);

/// <summary>One file of a job; <c>Delivered</c> marks the file that holds the delivered model (the form the job's headline names).</summary>
public sealed record ArtifactDto(string Name, PipelineStage Stage, string ContentType, long SizeBytes, string Sha256, string Url, bool Delivered = false);

/// <summary>A job; <c>Warnings</c> says what keeps a queued job from running (no live worker serves its device).</summary>
/// <param name="EtaSeconds">While the job runs: seconds until its running stage completes, from the stage's measured per-batch rate; otherwise null.</param>
public sealed record JobDto(
    Guid Id, JobStatus Status, string Model, string Dataset, string? DataPath, Guid? CheckpointId, bool TrainFirst, string Device,
    JobSpec Spec, PipelineStage? CurrentStage, double Progress, string? ProgressMessage, double? EtaSeconds,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, double? ElapsedMs,
    string? Error, bool CancelRequested, int Attempts, string? WorkerName, JobHeadline? Headline,
    IReadOnlyList<StageDto> Stages, IReadOnlyList<ArtifactDto> Artifacts, IReadOnlyList<string> Warnings);

/// <summary>One int8 layer of the per-layer report, most sensitive first (see GET /api/jobs/{id}/layers).</summary>
public sealed record JobLayerDto(
    int Rank, string Layer, string Kind, double SqnrDb, double Mse, double ActivationMin, double ActivationMax,
    double OutputScale, long OutputZeroPoint, double? AccuracyGainWhenFloat);

public sealed record ModelDto(string Name, string Description, long ParameterCount, int InputChannels, int Classes);

/// <summary>
/// A dataset a job can name: built in (by <c>Name</c>) or uploaded (by <c>Id</c>). <c>Path</c> is a built-in dataset's folder
/// on the API's machine (null for uploads); <c>TestImages</c> is 0 for an upload that is one set, which each job splits
/// (split.testFraction, split.seed); <c>ImageHeight</c>/<c>ImageWidth</c> are null when image sizes vary. <c>Labeled</c> is
/// false for an upload of images without class folders or y_* arrays: it has 0 classes and no class names, and serves
/// only jobs that compare with the FP32 model (generic jobs, from a checkpoint: training needs labels).
/// </summary>
public sealed record DatasetDto(
    string Name, string Description, int InputChannels, int Classes, string? Path, bool Available,
    Guid? Id = null, string Kind = DatasetDto.BuiltIn, IReadOnlyList<string>? ClassNames = null, int? TrainImages = null, int? TestImages = null,
    int? ImageHeight = null, int? ImageWidth = null, string? FileName = null, string? Format = null, long? SizeBytes = null, string? Sha256 = null,
    DateTime? CreatedAt = null, bool Labeled = true)
{
    public const string BuiltIn = "built-in";
    public const string Uploaded = "uploaded";
}
