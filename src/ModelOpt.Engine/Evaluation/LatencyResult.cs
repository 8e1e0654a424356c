namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Wall time of forward passes over one batch: mean and population standard deviation (numpy's default) in ms, and the
/// quartiles (numpy's linear interpolation) that the compile stage compares forms by, since a load spike on shared cores
/// moves the mean but hardly the median.
/// </summary>
public sealed record LatencyResult(int BatchSize, IReadOnlyList<double> TimingsMs)
{
    public double MeanMs => TimingsMs.Average();

    public double StdMs => Math.Sqrt(TimingsMs.Average(t => (t - MeanMs) * (t - MeanMs)));

    public double MedianMs => Percentile(0.5);

    public double LowerQuartileMs => Percentile(0.25);

    public double UpperQuartileMs => Percentile(0.75);

    public double ImagesPerSecond => BatchSize * 1000.0 / MeanMs;

    private double Percentile(double q)
    {
        var sorted = TimingsMs.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
    }
}
