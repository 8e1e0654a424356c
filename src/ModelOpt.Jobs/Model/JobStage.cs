using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Model;

/// <summary>A stage a job has completed: written once, in the same transaction as its results and artifacts.</summary>
public sealed class JobStage
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public PipelineStage Stage { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime CompletedAt { get; set; }
    public double DurationMs { get; set; }
    public int Attempt { get; set; }
    public string? WorkerName { get; set; }

    /// <summary>The CPU of the worker that ran the stage: latencies measured on different CPUs are not comparable.</summary>
    public string? CpuModel { get; set; }

    /// <summary>The calibrate stage's sample: how it was drawn, how many images, and the SHA-256 of (dataset SHA-256, indices).</summary>
    public string? CalibrationSampling { get; set; }
    public int? CalibrationSeed { get; set; }
    public int? CalibrationImages { get; set; }
    public string? CalibrationSampleSha256 { get; set; }
    public string? DatasetSha256 { get; set; }
}
