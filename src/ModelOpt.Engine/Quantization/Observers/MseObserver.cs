using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>Chooses the clipping range whose quantize-dequantize round trip has the least mean squared error over the histogram.</summary>
/// <remarks>
/// Candidates shrink the zero-including range [min(min, 0), max(max, 0)] by factors k / candidates, k = 1..candidates,
/// which keeps the ratio of the negative to the positive side (hence the zero point) as observed. Each candidate's qparams
/// come from <see cref="UniformQuantizationObserverBase.CalculateQParams(Tensor, Tensor)"/> (all candidates in one call);
/// its error is sum over bins of count * (dequantize(quantize(c)) - c)^2 with c the bin centre, so within-bin spread is
/// ignored: the search compares clipping against rounding, which the bin centres capture once bins are far narrower than
/// a quantization step.
/// </remarks>
public sealed class MseObserver : HistogramObserverBase
{
    public MseObserver(QuantizationSpec spec, double eps = DefaultEps, int candidates = 100, int bins = 2048, int upsampleRate = 128)
        : base(spec, eps, bins, upsampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 1);
        Candidates = candidates;
    }

    public int Candidates { get; }

    protected override (double Min, double Max) SelectRange()
    {
        var low = Math.Min(MinVal, 0);
        var high = Math.Max(MaxVal, 0);
        var factors = Enumerable.Range(1, Candidates).Select(k => (double)k / Candidates).ToArray();
        double[] scales;
        long[] zeroPoints;
        using (var lows = tensor(factors.Select(f => (float)(low * f)).ToArray()))
        using (var highs = tensor(factors.Select(f => (float)(high * f)).ToArray()))
        {
            var (scale, zeroPoint) = CalculateQParams(lows, highs);
            using (scale)
            using (zeroPoint)
            {
                scales = scale.to_type(ScalarType.Float64).data<double>().ToArray();
                zeroPoints = zeroPoint.data<long>().ToArray();
            }
        }

        var counts = Counts;
        var best = (Error: double.PositiveInfinity, Factor: 1.0);
        for (var k = 0; k < Candidates; k++)
        {
            var error = 0.0;
            for (var b = 0; b < Bins; b++)
            {
                if (counts[b] == 0)
                {
                    continue;
                }
                var centre = MinVal + (b + 0.5) * BinWidth;
                var q = Math.Clamp(Math.Round(centre / scales[k], MidpointRounding.ToEven) + zeroPoints[k], QuantMin, QuantMax);
                var diff = (q - zeroPoints[k]) * scales[k] - centre;
                error += counts[b] * diff * diff;
            }
            if (error < best.Error)
            {
                best = (error, factors[k]);
            }
        }
        return (Math.Max(MinVal, low * best.Factor), Math.Min(MaxVal, high * best.Factor));
    }

    protected override string DescribeParameters() =>
        string.Create(CultureInfo.InvariantCulture, $", candidates={Candidates}") + base.DescribeParameters();
}
