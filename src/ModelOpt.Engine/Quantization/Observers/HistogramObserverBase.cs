using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// Accumulates a histogram of every observed value over the running [min, max], as PyTorch's <c>HistogramObserver</c>
/// does; subclasses choose the clipping range from it (L2 search, percentile, KL divergence, MSE).
/// </summary>
/// <remarks>
/// Each batch is binned with <c>torch.histc</c> (native passes, no per-element C# work). While the range holds,
/// counts add up. When a batch widens it, the old histogram is re-binned into the wider range as PyTorch's
/// <c>_upscale_histogram</c> does: each old bin is split into upsample_rate equal sub-bins carrying count / upsample_rate,
/// and each sub-bin's midpoint picks its new bin. A constant stream (min == max) keeps its whole count in bin 0, which
/// is re-binned as a point mass. The histogram itself (2048 doubles) lives in managed memory, so that the
/// range searches run as plain loops over bins and the observer holds no native state.
/// </remarks>
public abstract class HistogramObserverBase : UniformQuantizationObserverBase
{
    private double[] histogram;

    protected HistogramObserverBase(QuantizationSpec spec, double eps, int bins, int upsampleRate) : base(spec, eps)
    {
        if (spec.IsPerChannel)
        {
            throw new ArgumentException($"{GetType().Name} is per-tensor, got {spec.QScheme}.", nameof(spec));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(upsampleRate, 1);
        Bins = bins;
        UpsampleRate = upsampleRate;
        histogram = new double[bins];
    }

    public int Bins { get; }

    public int UpsampleRate { get; }

    public double MinVal { get; private set; } = double.PositiveInfinity;

    public double MaxVal { get; private set; } = double.NegativeInfinity;

    public IReadOnlyList<double> Histogram => histogram;

    public bool IsInitialized => MinVal <= MaxVal;

    protected double BinWidth => (MaxVal - MinVal) / Bins;

    /// <summary>The histogram as an array for the range searches (not a copy: do not modify).</summary>
    protected double[] Counts => histogram;

    public override void Observe(Tensor x)
    {
        if (x.numel() == 0)
        {
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = x.detach().to_type(ScalarType.Float32);
        var (lo, hi) = aminmax(values);
        EnsureFinite(lo, hi);
        double batchMin = lo.item<float>(), batchMax = hi.item<float>();
        var (previousMin, previousMax) = IsInitialized ? (MinVal, MaxVal) : (batchMin, batchMax);
        (MinVal, MaxVal) = (Math.Min(previousMin, batchMin), Math.Max(previousMax, batchMax));
        Accumulate(values, previousMin, previousMax);
    }

    /// <summary>
    /// Adds a batch (float32, within the running [<see cref="MinVal"/>, <see cref="MaxVal"/>], which it may just have
    /// widened from [<paramref name="previousMin"/>, <paramref name="previousMax"/>]) to the histogram the range search
    /// reads: by default the signed one, re-binned first when the range grew.
    /// </summary>
    protected virtual void Accumulate(Tensor values, double previousMin, double previousMax)
    {
        if (MinVal < previousMin || MaxVal > previousMax)
        {
            histogram = Rebin(histogram, previousMin, previousMax, MinVal, MaxVal, UpsampleRate);
        }
        AddToHistogram(histogram, values, MinVal, MaxVal);
    }

    public override (Tensor Scale, Tensor ZeroPoint) CalculateQParams()
    {
        if (!IsInitialized)
        {
            throw new QuantizationException($"{GetType().Name} on {Label} has observed no data; calibrate before convert.");
        }
        var (min, max) = MinVal == MaxVal ? (MinVal, MaxVal) : SelectRange();
        using var minVal = tensor((float)min);
        using var maxVal = tensor((float)max);
        return CalculateQParams(minVal, maxVal);
    }

    public override void ResetMinMaxVals()
    {
        histogram = new double[Bins];
        (MinVal, MaxVal) = (double.PositiveInfinity, double.NegativeInfinity);
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{Describe()} min_val={MinVal:G6} max_val={MaxVal:G6} count={ObservedCount}");

    /// <summary>How many values the histogram the range search reads holds.</summary>
    protected virtual double ObservedCount => histogram.Sum();

    /// <summary>The clipping range [min, max] chosen from the histogram; called only for a non-degenerate range.</summary>
    protected abstract (double Min, double Max) SelectRange();

    protected override string DescribeParameters() => $", bins={Bins}, upsample_rate={UpsampleRate}";

    /// <summary>The value at quantile <paramref name="q"/> in [0, 1], interpolating linearly inside the bin that reaches it.</summary>
    protected double Quantile(double q)
    {
        var total = histogram.Sum();
        var target = q * total;
        var cumulative = 0.0;
        for (var i = 0; i < Bins; i++)
        {
            var next = cumulative + histogram[i];
            if (next >= target && histogram[i] > 0)
            {
                return MinVal + BinWidth * (i + (target - cumulative) / histogram[i]);
            }
            cumulative = next;
        }
        return MaxVal;
    }

    /// <summary>
    /// Adds <paramref name="values"/> (all within [min, max]) to <paramref name="counts"/>, binned over [min, max];
    /// min == max counts them all in bin 0.
    /// </summary>
    protected static void AddToHistogram(double[] counts, Tensor values, double min, double max)
    {
        if (min == max)
        {
            counts[0] += values.numel();
            return;
        }
        // TorchSharp's histc takes integer bounds, so values are mapped onto [0, bins] first; histc over unit bins is
        // still 2.5x faster than torch.histogram here (measured, 8M floats).
        var bins = counts.Length;
        using var binPositions = values.sub(min).mul_(bins / (max - min)).clamp_(0, bins);
        using var added = binPositions.histc(bins, 0, bins).to_type(ScalarType.Float64);
        var addedCounts = added.data<double>().ToArray();
        for (var i = 0; i < bins; i++)
        {
            counts[i] += addedCounts[i];
        }
    }

    /// <summary>
    /// <paramref name="counts"/> over [min, max] re-binned into the wider [newMin, newMax], as PyTorch's
    /// <c>_upscale_histogram</c>: each bin split into upsample_rate sub-bins placed by their midpoints; a point mass
    /// (min == max) moves whole.
    /// </summary>
    protected static double[] Rebin(double[] counts, double min, double max, double newMin, double newMax, int upsampleRate)
    {
        var bins = counts.Length;
        var result = new double[bins];
        var newWidth = (newMax - newMin) / bins;
        if (min == max)
        {
            result[BinOf(min, newMin, newWidth, bins)] += counts.Sum();
            return result;
        }
        var subWidth = (max - min) / ((double)bins * upsampleRate);
        for (var i = 0; i < bins; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }
            var share = counts[i] / upsampleRate;
            for (var k = 0; k < upsampleRate; k++)
            {
                var mid = min + ((long)i * upsampleRate + k + 0.5) * subWidth;
                result[BinOf(mid, newMin, newWidth, bins)] += share;
            }
        }
        return result;
    }

    private static int BinOf(double value, double min, double width, int bins) => Math.Clamp((int)Math.Floor((value - min) / width), 0, bins - 1);
}
