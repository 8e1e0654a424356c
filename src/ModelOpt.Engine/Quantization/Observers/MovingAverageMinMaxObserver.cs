using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>Exponential moving average of each batch's min and max, as PyTorch's <c>MovingAverageMinMaxObserver</c>.</summary>
/// <remarks>
/// The first batch sets min_val / max_val; then min_val += c * (min(x) - min_val), max_val += c * (max(x) - max_val)
/// with c = averaging_constant (0.01 by default).
/// </remarks>
public sealed class MovingAverageMinMaxObserver : MinMaxObserver
{
    public MovingAverageMinMaxObserver(QuantizationSpec spec, double averagingConstant = 0.01, double eps = DefaultEps) : base(spec, eps)
    {
        if (!(averagingConstant > 0 && averagingConstant <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(averagingConstant), averagingConstant, "averaging_constant must lie in (0, 1].");
        }
        AveragingConstant = averagingConstant;
    }

    public double AveragingConstant { get; }

    protected override void Update(Tensor batchMin, Tensor batchMax)
    {
        if (!IsInitialized)
        {
            min_val.copy_(batchMin);
            max_val.copy_(batchMax);
            return;
        }
        min_val.add_((batchMin - min_val) * AveragingConstant);
        max_val.add_((batchMax - max_val) * AveragingConstant);
    }

    protected override string DescribeParameters() => string.Create(CultureInfo.InvariantCulture, $", averaging_constant={AveragingConstant}");
}
