using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// KL-divergence (entropy) calibration as TensorRT describes it: the clipping threshold T on |x| whose quantized
/// distribution diverges least from the observed one.
/// </summary>
/// <remarks>
/// The signed histogram is folded into a histogram of |x| over [0, max |x|] (same bin count, re-binned through
/// upsample_rate sub-bins per bin as in the histogram update). Levels n = quant_max - quant_min + 1 when the data is
/// non-negative (unsigned use of the whole range), half of that otherwise. For every candidate i in [n, bins]:
/// P = the first i bins with the mass beyond them added to bin i - 1; Q = those i bins merged into n equal groups, each
/// group's count spread evenly over its non-empty bins; divergence KL(P || Q) = sum p log(p / q) after normalising both.
/// Q is smoothed as MXNet's and TensorRT's calibrators do: its empty bins get 1e-4 and the non-empty ones give that mass
/// up evenly, so that a clipped tail landing in an empty last bin costs a finite divergence rather than ruling the
/// candidate out. T = i * bin_width for the smallest divergence, and the range is [max(min, -T), min(max, T)].
/// With 2048 bins T is at least levels / 2048 of max |x|.
/// </remarks>
public sealed class EntropyObserver(QuantizationSpec spec, double eps = UniformQuantizationObserverBase.DefaultEps, int bins = 2048, int upsampleRate = 128)
    : HistogramObserverBase(spec, eps, bins, upsampleRate)
{
    protected override (double Min, double Max) SelectRange()
    {
        var absMax = Math.Max(Math.Abs(MinVal), Math.Abs(MaxVal));
        var magnitudes = FoldedMagnitudes(absMax);
        var levels = (int)(QuantMax - QuantMin + 1);
        if (MinVal < 0)
        {
            levels /= 2;
        }
        var threshold = absMax;
        if (levels < Bins)
        {
            var best = double.PositiveInfinity;
            for (var i = levels; i <= Bins; i++)
            {
                var divergence = Divergence(magnitudes, i, levels);
                if (divergence < best)
                {
                    best = divergence;
                    threshold = absMax * i / Bins;
                }
            }
        }
        return (Math.Max(MinVal, -threshold), Math.Min(MaxVal, threshold));
    }

    private double[] FoldedMagnitudes(double absMax)
    {
        var counts = Counts;
        var folded = new double[Bins];
        var subWidth = BinWidth / UpsampleRate;
        var foldedWidth = absMax / Bins;
        for (var b = 0; b < Bins; b++)
        {
            if (counts[b] == 0)
            {
                continue;
            }
            var share = counts[b] / UpsampleRate;
            for (var k = 0; k < UpsampleRate; k++)
            {
                var magnitude = Math.Abs(MinVal + ((long)b * UpsampleRate + k + 0.5) * subWidth);
                folded[Math.Clamp((int)(magnitude / foldedWidth), 0, Bins - 1)] += share;
            }
        }
        return folded;
    }

    private const double SmoothingEps = 1e-4;

    private static double Divergence(double[] counts, int i, int levels)
    {
        var outliers = 0.0;
        for (var b = i; b < counts.Length; b++)
        {
            outliers += counts[b];
        }
        var merged = new double[levels];
        var nonEmpty = new int[levels];
        for (var b = 0; b < i; b++)
        {
            var group = (int)((long)b * levels / i);
            merged[group] += counts[b];
            nonEmpty[group] += counts[b] > 0 ? 1 : 0;
        }
        var q = new double[i];
        double pTotal = outliers, qTotal = 0;
        for (var b = 0; b < i; b++)
        {
            pTotal += counts[b];
            var group = (int)((long)b * levels / i);
            q[b] = counts[b] > 0 ? merged[group] / nonEmpty[group] : 0;
            qTotal += q[b];
        }
        var zeros = q.Count(v => v == 0);
        var taken = zeros == 0 || zeros == i ? 0 : SmoothingEps * zeros / (i - zeros);
        var divergence = 0.0;
        for (var b = 0; b < i; b++)
        {
            var p = (counts[b] + (b == i - 1 ? outliers : 0)) / pTotal;
            if (p == 0)
            {
                continue;
            }
            var smoothed = q[b] == 0 ? SmoothingEps : q[b] / qTotal - taken;
            if (smoothed <= 0)
            {
                return double.PositiveInfinity;
            }
            divergence += p * Math.Log(p / smoothed);
        }
        return divergence;
    }
}
