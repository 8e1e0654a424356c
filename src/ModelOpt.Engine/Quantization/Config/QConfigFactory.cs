using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Quantization.Config;

/// <summary>Builds the job's <see cref="QConfig"/> from its <see cref="QuantizationOptions"/>, on top of the x86 recipe.</summary>
public static class QConfigFactory
{
    public static IReadOnlyList<string> ActivationObservers { get; } =
        ["minmax", "moving_average_minmax", "histogram", "percentile", "entropy", "mse"];

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
            "minmax" => () => new MinMaxObserver(activation, eps),
            "moving_average_minmax" => () => new MovingAverageMinMaxObserver(activation, eps: eps),
            "histogram" => () => new HistogramObserver(activation, eps),
            "percentile" => () => new PercentileObserver(activation, percentile, eps),
            "entropy" => () => new EntropyObserver(activation, eps),
            "mse" => () => new MseObserver(activation, eps),
            var name => throw new ArgumentException(
                $"Unknown activation observer '{name}'; expected one of {string.Join(", ", ActivationObservers)}.", nameof(options)),
        };
        var weight = X86InductorQuantizer.WeightSpec(options.PerChannelWeights);
        Func<ObserverBase> weightFactory = options.PerChannelWeights
            ? () => new PerChannelMinMaxObserver(weight, eps)
            : () => new MinMaxObserver(weight, eps);
        return new QConfig(activationFactory, weightFactory);
    }
}
