using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// KL-divergence (entropy) calibration as TensorRT's (NVIDIA pytorch-quantization's <c>_compute_amax_entropy</c>): the
/// clipping threshold T on |x| whose quantized distribution diverges least from the observed one.
/// </summary>
/// <remarks>
/// Instead of the base class's signed histogram it keeps TensorRT's histogram of |x| over [0, max |x|] (same bin
/// count, re-binned as the signed one when max |x| grows): folding the signed histogram into |x| instead moved the
/// threshold by 50-111 bins from the reference on signed and heavy-tailed data (EntropyReferenceTests).
/// Bin 0 takes bin 1's count, as TensorRT does: the exact zeros of a ReLU output (often half the values) would otherwise
/// dominate the divergence, since every candidate spreads bin 0 over its first quantization step, and drive T down to a
/// few steps of data (resnet20: ReLU outputs clipped 2-4x below the other observers' ranges, 16 points of top-1 lost).
/// Levels n = quant_max - quant_min + 1 when no value is negative and the spec is affine, half of that for signed data
/// or a symmetric spec (its zero point in the middle leaves half the levels to each side). For every candidate i in
/// [<see cref="StartBin"/>, bins]: P = the first i bins with the mass beyond them added to bin i - 1; Q = those i bins
/// merged into n groups (bin b in group floor(b n / i)), each group's count spread evenly over its non-empty bins;
/// divergence KL(P || Q) after normalising both, with no smoothing: a candidate whose last bin is empty while mass is
/// clipped into it has Q = 0 where P is not, and is ruled out. Among equal divergences the largest i wins.
/// T = i * max |x| / bins.
/// Departures (docs/decisions/ADR-014): signedness comes from the data, not the quantizer (activations are always
/// uint8); T is applied to an asymmetric uint8 range [max(min, -T), min(max, T)], so signed data searched with n / 2
/// levels on |x| is quantized with all 256 levels over the clipped range, not with TensorRT's int8 over [-T, T].
/// </remarks>
public sealed class EntropyObserver(QuantizationSpec spec, double eps = UniformQuantizationObserverBase.DefaultEps, int bins = 2048, int upsampleRate = 128)
    : HistogramObserverBase(spec, eps, bins, upsampleRate)
{
    /// <summary>TensorRT's <c>start_bin</c>: the smallest candidate threshold spans 128 bins of the |x| histogram.</summary>
    public const int StartBin = 128;

    private double[] magnitudes = new double[bins];

    private double AbsMax => AbsMaxOf(MinVal, MaxVal);

    protected override double ObservedCount => magnitudes.Sum();

    /// <summary>The KL-optimal threshold T on |x|; max |x| when the histogram is too coarse to search or the data constant.</summary>
    public double SelectThreshold()
    {
        if (!IsInitialized)
        {
            throw new QuantizationException($"{GetType().Name} on {Label} has observed no data; calibrate before convert.");
        }
        var absMax = AbsMax;
        if (MinVal == MaxVal || Bins <= StartBin)
        {
            return absMax;
        }
        var counts = (double[])magnitudes.Clone();
        counts[0] = counts[1];
        var levels = (int)(QuantMax - QuantMin + 1);
        if (MinVal < 0 || Spec.IsSymmetric)
        {
            levels /= 2;
        }
        var threshold = absMax;
        var best = double.PositiveInfinity;
        for (var i = StartBin; i <= Bins; i++)
        {
            var divergence = Divergence(counts, i, levels);
            if (divergence <= best)
            {
                best = divergence;
                threshold = absMax * i / Bins;
            }
        }
        return threshold;
    }

    protected override (double Min, double Max) SelectRange()
    {
        var threshold = SelectThreshold();
        return (Math.Max(MinVal, -threshold), Math.Min(MaxVal, threshold));
    }

    protected override void Accumulate(Tensor values, double previousMin, double previousMax)
    {
        var previousAbsMax = AbsMaxOf(previousMin, previousMax);
        if (AbsMax > previousAbsMax)
        {
            magnitudes = Rebin(magnitudes, 0, previousAbsMax, 0, AbsMax, UpsampleRate);
        }
        using var magnitude = values.abs();
        AddToHistogram(magnitudes, magnitude, 0, AbsMax);
    }

    public override void ResetMinMaxVals()
    {
        base.ResetMinMaxVals();
        magnitudes = new double[Bins];
    }

    private static double AbsMaxOf(double min, double max) => Math.Max(Math.Abs(min), Math.Abs(max));

    private static double Divergence(double[] counts, int i, int levels)
    {
        var merged = new double[levels];
        var nonEmpty = new int[levels];
        double kept = 0, outliers = 0;
        for (var b = 0; b < i; b++)
        {
            if (counts[b] > 0)
            {
                var group = (int)((long)b * levels / i);
                merged[group] += counts[b];
                nonEmpty[group]++;
                kept += counts[b];
            }
        }
        for (var b = i; b < counts.Length; b++)
        {
            outliers += counts[b];
        }
        var total = kept + outliers;
        var divergence = 0.0;
        for (var b = 0; b < i; b++)
        {
            var p = counts[b] + (b == i - 1 ? outliers : 0);
            if (p == 0)
            {
                continue;
            }
            if (counts[b] == 0)
            {
                return double.PositiveInfinity;
            }
            var group = (int)((long)b * levels / i);
            var q = merged[group] / nonEmpty[group] / kept;
            divergence += p / total * Math.Log(p / total / q);
        }
        return divergence;
    }
}
