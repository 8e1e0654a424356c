using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Observers;

/// <summary>Running min / max of every slice along <c>ch_axis</c>, as PyTorch's <c>PerChannelMinMaxObserver</c> (weights).</summary>
/// <remarks>min_val[c] = min(min_val[c], min(x[c, ...])), likewise max_val; the channel count is fixed by the first tensor.</remarks>
public sealed class PerChannelMinMaxObserver : UniformQuantizationObserverBase
{
#pragma warning disable IDE1006
    private Tensor? min_val;
    private Tensor? max_val;
#pragma warning restore IDE1006

    public PerChannelMinMaxObserver(QuantizationSpec spec, double eps = DefaultEps) : base(spec, eps)
    {
        if (!spec.IsPerChannel)
        {
            throw new ArgumentException($"{nameof(PerChannelMinMaxObserver)} needs a per-channel qscheme, got {spec.QScheme}.", nameof(spec));
        }
        ChAxis = spec.ChAxis!.Value;
    }

    public long ChAxis { get; }

    /// <summary>The per-channel minima (owned by the observer), or null before the first <see cref="Observe"/>.</summary>
    public Tensor? MinVal => min_val;

    public Tensor? MaxVal => max_val;

    public override void Observe(Tensor x)
    {
        if (x.numel() == 0)
        {
            return;
        }
        if (ChAxis >= x.dim())
        {
            throw new ArgumentException($"ch_axis {ChAxis} is out of range for a {x.dim()}-d tensor.", nameof(x));
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (lo, hi) = aminmax(x.detach().to_type(ScalarType.Float32).movedim([ChAxis], [0L]).reshape(x.shape[ChAxis], -1), dim: 1);
        EnsureFinite(lo, hi);
        if (min_val is null || max_val is null)
        {
            min_val = lo.DetachFromDisposeScope();
            max_val = hi.DetachFromDisposeScope();
            return;
        }
        if (lo.shape[0] != min_val.shape[0])
        {
            throw new ArgumentException($"Expected {min_val.shape[0]} channels along axis {ChAxis}, got {lo.shape[0]}.", nameof(x));
        }
        min_val.copy_(minimum(min_val, lo));
        max_val.copy_(maximum(max_val, hi));
    }

    public override (Tensor Scale, Tensor ZeroPoint) CalculateQParams() =>
        min_val is not null && max_val is not null
            ? CalculateQParams(min_val, max_val)
            : throw new QuantizationException($"{nameof(PerChannelMinMaxObserver)} on {Label} has observed no data.");

    public override void ResetMinMaxVals()
    {
        min_val?.Dispose();
        max_val?.Dispose();
        min_val = null;
        max_val = null;
    }

    public override string ToString() => $"{Describe()} channels={min_val?.shape[0] ?? 0}";

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ResetMinMaxVals();
        }
        base.Dispose(disposing);
    }
}
