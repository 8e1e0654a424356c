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
}
