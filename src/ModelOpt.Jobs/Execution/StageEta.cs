using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The remaining time of one stage from its measured progress rate: (1 - fraction) / rate, the rate taken between the
/// stage's first report (after loading, which the rate should not include) and its latest. Stages report after every
/// batch, so this is the measured per-batch time times the batches left.
/// </summary>
internal sealed class StageEta(PipelineStage stage)
{
    /// <summary>Below this much measured time the rate is noise: no estimate yet.</summary>
    public static readonly TimeSpan MinimumMeasured = TimeSpan.FromSeconds(1);

    private (double Fraction, long Timestamp)? first;

    public PipelineStage Stage { get; } = stage;

    /// <summary>Records a report; returns the estimated seconds left, or null while the rate is not yet measured.</summary>
    public double? Observe(double fraction, long timestamp, long timestampFrequency)
    {
        if (first is not { } start)
        {
            first = (fraction, timestamp);
            return null;
        }
        var seconds = (double)(timestamp - start.Timestamp) / timestampFrequency;
        var done = fraction - start.Fraction;
        if (seconds < MinimumMeasured.TotalSeconds || done <= 0)
        {
            return null;
        }
        return Math.Round((1 - fraction) * seconds / done, 1);
    }
}
