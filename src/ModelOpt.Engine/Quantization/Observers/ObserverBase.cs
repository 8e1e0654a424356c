using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>
/// Collects statistics of the values it observes and turns them into quantization parameters, as
/// <c>torch.ao.quantization.observer.ObserverBase</c>. <see cref="Observe"/> is PyTorch's <c>forward</c> without the
/// pass-through: the graph interpreter hands observers each value through a callback.
/// </summary>
/// <remarks>
/// Observers are plain disposable classes, not TorchSharp modules: their state lives only for one calibration job
/// (convert keeps the qparams, never the statistics), so serialising it through a state_dict buys nothing, while a
/// module per observed value would cost native module handles on every prepare. State keeps PyTorch's names.
/// </remarks>
public abstract class ObserverBase(QuantizationSpec spec) : IDisposable
{
    public QuantizationSpec Spec { get; } = spec;

    public ScalarType Dtype => Spec.Dtype;

    public bool IsDynamic => Spec.IsDynamic;

    /// <summary>What this observer watches (set by prepare), so errors name the offending value.</summary>
    public string Label { get; set; } = "unplaced observer";

    /// <summary>Updates the statistics with <paramref name="x"/>, which is neither modified nor kept.</summary>
    public abstract void Observe(Tensor x);

    /// <summary>Scale (float32) and zero point (int64): 0-d per tensor, one entry per channel per channel.</summary>
    public abstract (Tensor Scale, Tensor ZeroPoint) CalculateQParams();

    public abstract void ResetMinMaxVals();

    /// <summary>The observer's configuration, without its state.</summary>
    public abstract string Describe();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Rejects NaN and infinities, reported by the observed min / max (which propagate NaN).</summary>
    protected void EnsureFinite(Tensor minVal, Tensor maxVal)
    {
        using var scope = NewDisposeScope();
        if (isfinite(minVal).all().item<bool>() && isfinite(maxVal).all().item<bool>())
        {
            return;
        }
        var what = (isnan(minVal).any() | isnan(maxVal).any()).item<bool>() ? "NaN" : "an infinite value";
        throw new QuantizationException($"{GetType().Name} on {Label}: the observed tensor contains {what}; it cannot be quantized.");
    }
}
