using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// PyTorch's <c>HistogramObserver</c>: chooses the [min, max] that minimises the L2 quantization error of the
/// histogram (<c>_non_linear_param_search</c>), which clips sparse outliers. The x86 recipe's activation observer.
/// </summary>
/// <remarks>
/// A port of PyTorch's search. Starting from all bins, it repeatedly drops whichever tail (left or right) holds less mass,
/// advancing quantile bounds alpha / beta by 1e-5, and stops as soon as the error grows. The error of keeping bins
/// [s, e] quantized to n = quant_max - quant_min + 1 levels of width d = bin_width * (e - s + 1) / n assumes values are
/// uniform inside each source bin (density = count / bin_width): a source bin spanning [b, b + w] relative to bin s
/// contributes density * (u^3 - l^3) / 3 for each piece [l, u] of it measured from its destination level's centre,
/// i.e. the integral of the squared rounding error; bins outside [s, e] fall into the end levels (clipping error).
/// </remarks>
public sealed class HistogramObserver(QuantizationSpec spec, double eps = UniformQuantizationObserverBase.DefaultEps, int bins = 2048, int upsampleRate = 128)
    : HistogramObserverBase(spec, eps, bins, upsampleRate)
{
    private const double StepSize = 1e-5;

    protected override (double Min, double Max) SelectRange()
    {
        var counts = Counts;
        var cumulative = new double[Bins];
        var running = 0.0;
        for (var i = 0; i < Bins; i++)
        {
            running += counts[i];
            cumulative[i] = running;
        }
        var total = running;
        double alpha = 0, beta = 1;
        int startBin = 0, endBin = Bins - 1;
        var normMin = double.PositiveInfinity;
        while (alpha < beta)
        {
            var nextAlpha = alpha + StepSize;
            var nextBeta = beta - StepSize;
            var l = startBin;
            var r = endBin;
            while (l < endBin && cumulative[l] < nextAlpha * total)
            {
                l++;
            }
            while (r > startBin && cumulative[r] > nextBeta * total)
            {
                r--;
            }
            var nextStartBin = startBin;
            var nextEndBin = endBin;
            if (l - startBin > endBin - r)
            {
                nextStartBin = l;
                alpha = nextAlpha;
            }
            else
            {
                nextEndBin = r;
                beta = nextBeta;
            }
            if (nextStartBin == startBin && nextEndBin == endBin)
            {
                continue;
            }
            var norm = QuantizationError(nextStartBin, nextEndBin);
            if (norm > normMin)
            {
                break;
            }
            normMin = norm;
            startBin = nextStartBin;
            endBin = nextEndBin;
        }
        return (MinVal + BinWidth * startBin, MinVal + BinWidth * (endBin + 1));
    }

    /// <summary>PyTorch's <c>_compute_quantization_error</c>.</summary>
    private double QuantizationError(int startBin, int endBin)
    {
        var counts = Counts;
        var binWidth = BinWidth;
        long dstBins = QuantMax - QuantMin + 1;
        var dstBinWidth = binWidth * (endBin - startBin + 1) / dstBins;
        if (dstBinWidth == 0)
        {
            return 0;
        }
        var half = dstBinWidth / 2;
        var norm = 0.0;
        for (var i = 0; i < Bins; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }
            var density = counts[i] / binWidth;
            var srcBegin = (i - startBin) * binWidth;
            var srcEnd = srcBegin + binWidth;
            var dstOfBegin = Math.Clamp(Math.Floor(srcBegin / dstBinWidth), 0, dstBins - 1);
            var dstOfEnd = Math.Clamp(Math.Floor(srcEnd / dstBinWidth), 0, dstBins - 1);
            var dstOfBeginCenter = (dstOfBegin + 0.5) * dstBinWidth;
            var dstOfEndCenter = dstOfEnd * dstBinWidth + half;
            norm += Norm(srcBegin - dstOfBeginCenter, half, density);
            norm += (dstOfEnd - dstOfBegin - 1) * Norm(-half, half, density);
            norm += Norm(-half, srcEnd - dstOfEndCenter, density);
        }
        return norm;
    }

    private static double Norm(double deltaBegin, double deltaEnd, double density) =>
        density * (deltaEnd * deltaEnd * deltaEnd - deltaBegin * deltaBegin * deltaBegin) / 3;
}
