using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>Clips the range at the (100 - p)-th and p-th percentiles of the observed histogram.</summary>
/// <remarks>
/// min = Q((100 - p) / 100), max = Q(p / 100), where Q interpolates linearly within the bin that reaches the quantile
/// (values are taken as uniform inside a bin). p = 100 keeps the observed [min, max]. p and 100 - p name the same range.
/// </remarks>
public sealed class PercentileObserver : HistogramObserverBase
{
    public PercentileObserver(QuantizationSpec spec, double percentile, double eps = DefaultEps, int bins = 2048, int upsampleRate = 128)
        : base(spec, eps, bins, upsampleRate)
    {
        if (!(percentile > 0 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must lie in (0, 100].");
        }
        Percentile = percentile;
    }

    public double Percentile { get; }

    protected override (double Min, double Max) SelectRange()
    {
        var a = Quantile((100 - Percentile) / 100);
        var b = Quantile(Percentile / 100);
        return (Math.Min(a, b), Math.Max(a, b));
    }

    protected override string DescribeParameters() =>
        string.Create(CultureInfo.InvariantCulture, $", percentile={Percentile}") + base.DescribeParameters();
}
