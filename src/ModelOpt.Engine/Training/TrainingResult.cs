namespace ModelOpt.Engine.Training;

/// <summary>What a finished training run measured: wall time of each epoch and the loss of the last batch (what the notebook prints).</summary>
public sealed record TrainingResult(IReadOnlyList<TimeSpan> EpochDurations, double FinalLoss, int ImagesPerEpoch)
{
    public TimeSpan TotalDuration => EpochDurations.Aggregate(TimeSpan.Zero, (sum, d) => sum + d);
}
