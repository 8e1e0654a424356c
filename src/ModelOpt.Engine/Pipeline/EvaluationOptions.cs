using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Engine.Pipeline;

/// <summary>How each model form is measured, as the notebook does: top-1 accuracy on the test set and latency of one random batch.</summary>
public sealed record EvaluationOptions
{
    [Range(1, 10_000_000), Description("Score the first N test images; null scores all of them.")]
    public int? TestSubset { get; init; }

    [Range(1, 4096), Description("Batch size of the latency measurement.")]
    public int LatencyBatchSize { get; init; } = 128;

    [Range(0, 1000), Description("Untimed warm-up runs.")]
    public int WarmupRuns { get; init; } = 5;

    [Range(1, 10_000), Description("Timed runs (latency mean and standard deviation).")]
    public int TimedRuns { get; init; } = 50;
}
