using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Quantization.Config;

/// <summary>Builds the job's <see cref="QConfig"/> from its <see cref="QuantizationOptions"/>, on top of the x86 recipe.</summary>
public static class QConfigFactory
{
    /// <remarks>
    /// Symmetric activations stay uint8 (zero point 128, as PyTorch's symmetric quint8), because the x86 kernels take
    /// quint8 activations only. Per-tensor weights use a <see cref="MinMaxObserver"/> with the same int8 symmetric range.
    /// </remarks>
    public static QConfig FromOptions(QuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Percentile > 0 && options.Percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Percentile, "Percentile must lie in (0, 100].");
        }
        var activation = X86InductorQuantizer.ActivationSpec(options.SymmetricActivations);
        var eps = X86InductorQuantizer.Eps;
        var percentile = options.Percentile;
        Func<ObserverBase> activationFactory = options.ActivationObserver switch
        {
            ActivationObserverNames.MinMax => () => new MinMaxObserver(activation, eps),
            ActivationObserverNames.MovingAverageMinMax => () => new MovingAverageMinMaxObserver(activation, eps: eps),
            ActivationObserverNames.Histogram => () => new HistogramObserver(activation, eps),
            ActivationObserverNames.Percentile => () => new PercentileObserver(activation, percentile, eps),
            ActivationObserverNames.Entropy => () => new EntropyObserver(activation, eps),
            ActivationObserverNames.Mse => () => new MseObserver(activation, eps),
            ActivationObserverNames.Auto => throw new ArgumentException(
                $"'{ActivationObserverNames.Auto}' is resolved to one observer by calibrate before a qconfig is built.", nameof(options)),
            var name => throw new ArgumentException(
                $"Unknown activation observer '{name}'; expected one of {string.Join(", ", ActivationObserverNames.Observers)}.", nameof(options)),
        };
        var weight = X86InductorQuantizer.WeightSpec(options.PerChannelWeights);
        Func<ObserverBase> weightFactory = options.PerChannelWeights
            ? () => new PerChannelMinMaxObserver(weight, eps)
            : () => new MinMaxObserver(weight, eps);
        return new QConfig(activationFactory, weightFactory);
    }
}
