namespace ModelOpt.Engine.Evaluation;

/// <summary>Wall time of forward passes over one batch: mean and population standard deviation (numpy's default) in ms.</summary>
public sealed record LatencyResult(int BatchSize, IReadOnlyList<double> TimingsMs)
{
    public double MeanMs => TimingsMs.Average();

    public double StdMs => Math.Sqrt(TimingsMs.Average(t => (t - MeanMs) * (t - MeanMs)));

    public double ImagesPerSecond => BatchSize * 1000.0 / MeanMs;
}
