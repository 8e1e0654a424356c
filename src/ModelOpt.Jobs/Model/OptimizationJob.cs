using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Contracts;

namespace ModelOpt.Jobs.Model;

/// <summary>One optimization job. The row is the truth; Hangfire only dispatches its id. Its status changes only through <c>JobStateMachine</c>.</summary>
public sealed class OptimizationJob : ITeamOwned
{
    public Guid Id { get; set; }

    /// <summary>The team whose key submitted the job; its stages, results, layers and artifacts are that team's too.</summary>
    public Guid TeamId { get; set; }
    public JobStatus Status { get; set; }
    public required string Model { get; set; }
    /// <summary>The longest dataset name a job can record: an uploaded dataset's name is held to it too.</summary>
    public const int MaxDatasetNameLength = 64;

    /// <summary>The built-in dataset's name, or the uploaded dataset's name when <see cref="DatasetId"/> is set.</summary>
    public required string Dataset { get; set; }

    /// <summary>The uploaded dataset the job uses; null for a built-in one, or once the uploaded one is deleted.</summary>
    public Guid? DatasetId { get; set; }
    public UploadedDataset? UploadedDataset { get; set; }

    /// <summary>Whether the job was submitted on an uploaded dataset (it stays true after that dataset is deleted).</summary>
    public bool UsesUploadedDataset { get; set; }
    public string? DataPath { get; set; }

    /// <summary>The FP32 checkpoint to start from; null once that checkpoint is deleted or when the job trains.</summary>
    public Guid? CheckpointId { get; set; }
    public Checkpoint? Checkpoint { get; set; }

    /// <summary>Whether the job trains its FP32 model first (no checkpoint was given at submission).</summary>
    public bool TrainFirst { get; set; }

    public required string Device { get; set; }
    public required string Queue { get; set; }

    /// <summary>Training, quantization, evaluation and compile settings as submitted (a JSON column).</summary>
    public required JobSpec Spec { get; set; }

    public PipelineStage? CurrentStage { get; set; }

    /// <summary>Overall progress, 0-100.</summary>
    public double Progress { get; set; }
    public string? ProgressMessage { get; set; }

    /// <summary>Seconds until the running stage completes, from its measured per-batch rate; null when not measured.</summary>
    public double? EtaSeconds { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The submission's <c>Idempotency-Key</c>, scoped to its team ("team:{team id}:{key}"); a retry with it gets this job back.</summary>
    public string? IdempotencyKey { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }

    public string? Error { get; set; }
    public bool CancelRequested { get; set; }

    public string? HangfireJobId { get; set; }

    /// <summary>The job waits to be handed to Hangfire by the dispatch relay (the outbox flag; see <c>JobStateMachine</c>).</summary>
    public bool DispatchPending { get; set; }

    /// <summary>Runs started since submission or the last manual retry.</summary>
    public int Attempts { get; set; }

    /// <summary>Identifies the run that owns the job right now; a run that finds another id stops.</summary>
    public Guid? ExecutionId { get; set; }
    public DateTime? HeartbeatAt { get; set; }
    public string? WorkerName { get; set; }

    public List<JobStage> Stages { get; set; } = [];
    public List<StageResult> Results { get; set; } = [];
    public List<JobArtifact> Artifacts { get; set; } = [];
}
