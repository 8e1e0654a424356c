using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The job's qconfig in PyTorch's vocabulary. The defaults are <c>get_default_x86_inductor_quantization_config()</c>:
/// histogram-observed uint8 affine per-tensor activations, int8 symmetric per-channel weights, calibrated on the
/// first 256 training images in batches of 128.
/// </summary>
/// <param name="CalibrationSampling">Which training images calibrate: the first N, a seeded random N, or N stratified by class.</param>
/// <param name="CalibrationSeed">Seed of the random and stratified draws.</param>
/// <param name="ActivationObserver"><c>minmax | moving_average_minmax | histogram | percentile | entropy | mse</c>.</param>
/// <param name="Percentile">Used by the <c>percentile</c> observer, in (0, 100].</param>
public sealed record QuantizationOptions(
    string ActivationObserver = "histogram",
    double Percentile = 99.99,
    bool PerChannelWeights = true,
    bool SymmetricActivations = false,
    int CalibrationImages = 256,
    int CalibrationBatchSize = 128,
    CalibrationSampling CalibrationSampling = CalibrationSampling.First,
    int CalibrationSeed = 0);
