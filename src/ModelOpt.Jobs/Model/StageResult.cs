using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Model;

/// <summary>One measured model form of a stage: a row of the notebook's results table.</summary>
public sealed class StageResult
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public PipelineStage Stage { get; set; }
    public int Ordinal { get; set; }
    public required string Backend { get; set; }
    public required string Device { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>Top-1 against the labels; null for a generic job's forms.</summary>
    public double? Accuracy { get; set; }
    public int ImagesScored { get; set; }
    public double LatencyMeanMs { get; set; }
    public double LatencyStdMs { get; set; }
    public int BatchSize { get; set; }
    public bool Selected { get; set; }
    public string? Note { get; set; }
    public double StageDurationMs { get; set; }

    /// <summary>Per graph output, against FP32 on the same images (stored as JSON); null where the stage measured none.</summary>
    public List<OutputFidelity>? Fidelity { get; set; }
}
