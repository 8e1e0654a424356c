using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>Per-tensor running minimum and maximum, as PyTorch's <c>MinMaxObserver</c>.</summary>
/// <remarks>min_val = min(min_val, min(x)), max_val = max(max_val, max(x)); both start at +inf / -inf.</remarks>
public class MinMaxObserver : UniformQuantizationObserverBase
{
    // PyTorch's buffer names, so the state reads like the reference implementation's.
#pragma warning disable IDE1006
    protected readonly Tensor min_val;
    protected readonly Tensor max_val;
#pragma warning restore IDE1006

    public MinMaxObserver(QuantizationSpec spec, double eps = DefaultEps) : base(spec, eps)
    {
        if (spec.IsPerChannel)
        {
            throw new ArgumentException($"{GetType().Name} is per-tensor; use {nameof(PerChannelMinMaxObserver)} for {spec.QScheme}.", nameof(spec));
        }
        min_val = tensor(float.PositiveInfinity).DetachFromDisposeScope();
        max_val = tensor(float.NegativeInfinity).DetachFromDisposeScope();
    }

    public double MinVal => min_val.item<float>();

    public double MaxVal => max_val.item<float>();

    public bool IsInitialized => !float.IsPositiveInfinity(min_val.item<float>());

    public override void Observe(Tensor x)
    {
        if (x.numel() == 0)
        {
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (lo, hi) = aminmax(x.detach().to_type(ScalarType.Float32));
        EnsureFinite(lo, hi);
        Update(lo, hi);
    }

    public override (Tensor Scale, Tensor ZeroPoint) CalculateQParams() => CalculateQParams(min_val, max_val);

    public override void ResetMinMaxVals()
    {
        min_val.fill_(float.PositiveInfinity);
        max_val.fill_(float.NegativeInfinity);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Describe()} min_val={MinVal:G6} max_val={MaxVal:G6}");

    /// <summary>Folds the batch's range into the state, in place (the state outlives every dispose scope).</summary>
    protected virtual void Update(Tensor batchMin, Tensor batchMax)
    {
        min_val.copy_(minimum(min_val, batchMin));
        max_val.copy_(maximum(max_val, batchMax));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            min_val.Dispose();
            max_val.Dispose();
        }
        base.Dispose(disposing);
    }
}
