using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// Observers whose qparams come from a [min, max] range, as PyTorch's <c>UniformQuantizationObserverBase</c>: one
/// <see cref="CalculateQParams(Tensor, Tensor)"/> serves per-tensor (0-d) and per-channel (1-d) ranges.
/// </summary>
/// <remarks>
/// The range is first widened to include 0, so that zero (padding, ReLU) is exactly representable:
/// min_neg = min(min_val, 0), max_pos = max(max_val, 0).
/// Symmetric: scale = max(-min_neg, max_pos) / ((quant_max - quant_min) / 2); zero_point = 0 for signed dtypes,
/// 128 for uint8 over [0, 255] (the midpoint (quant_min + quant_max) / 2, rounded down, for a customized range).
/// Affine: scale = (max_pos - min_neg) / (quant_max - quant_min); zero_point = clamp(quant_min - round(min_neg / scale), quant_min, quant_max).
/// The scale is floored at eps. Hence min == max (a constant tensor) is valid: the widened range is [min(c, 0), max(c, 0)];
/// an all-zero tensor gives scale = eps and zero_point = quant_min (affine) or the symmetric zero point.
/// A range never observed (min = +inf, max = -inf) is an error here, where PyTorch warns and returns scale 1, zero point 0:
/// a silently unquantizable layer is worse than a failed job.
/// </remarks>
public abstract class UniformQuantizationObserverBase : ObserverBase
{
    /// <summary>PyTorch's default eps, <c>torch.finfo(torch.float32).eps</c>.</summary>
    public const double DefaultEps = 1.1920928955078125e-07;

    protected UniformQuantizationObserverBase(QuantizationSpec spec, double eps) : base(spec)
    {
        if (!(eps > 0) || double.IsInfinity(eps))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a positive finite number.");
        }
        Eps = eps;
    }

    public QScheme QScheme => Spec.QScheme;

    public long QuantMin => Spec.QuantMin;

    public long QuantMax => Spec.QuantMax;

    public double Eps { get; }

    public (Tensor Scale, Tensor ZeroPoint) CalculateQParams(Tensor minVal, Tensor maxVal)
    {
        using var scope = NewDisposeScope();
        if ((minVal > maxVal).any().item<bool>())
        {
            throw new QuantizationException($"{GetType().Name} on {Label} has observed no data (or min > max); calibrate before convert.");
        }
        var minNeg = minVal.to_type(ScalarType.Float32).clamp_max(0);
        var maxPos = maxVal.to_type(ScalarType.Float32).clamp_min(0);
        Tensor scale, zeroPoint;
        if (Spec.IsSymmetric)
        {
            scale = maximum(-minNeg, maxPos).div_((QuantMax - QuantMin) / 2.0).clamp_min_(Eps);
            var isUnsigned = Dtype == ScalarType.Byte;
            var symmetricZero = !isUnsigned ? 0 : Spec.HasCustomizedQRange ? (QuantMin + QuantMax) / 2 : 128;
            zeroPoint = full_like(scale, symmetricZero, dtype: ScalarType.Int64);
        }
        else
        {
            scale = (maxPos - minNeg).div_((double)(QuantMax - QuantMin)).clamp_min_(Eps);
            zeroPoint = (QuantMin - (minNeg / scale).round_()).to_type(ScalarType.Int64).clamp_(QuantMin, QuantMax);
        }
        return (scale.MoveToOuterDisposeScope(), zeroPoint.MoveToOuterDisposeScope());
    }

    public override string Describe() => string.Create(
        CultureInfo.InvariantCulture, $"{GetType().Name}({Spec}, eps={Eps:G6}{DescribeParameters()})");

    /// <summary>Observer-specific parameters for <see cref="Describe"/>, each starting with ", ".</summary>
    protected virtual string DescribeParameters() => "";
}
