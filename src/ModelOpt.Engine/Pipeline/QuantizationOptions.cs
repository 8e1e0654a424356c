using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The job's qconfig in PyTorch's vocabulary. The defaults are <c>get_default_x86_inductor_quantization_config()</c>:
/// histogram-observed uint8 affine per-tensor activations, int8 symmetric per-channel weights, calibrated on 256 training
/// images stratified by class (seeded; the notebook's first 256 with <see cref="Data.CalibrationSampling.First"/>) in batches of 128.
/// </summary>
/// <param name="CalibrationSampling">Which training images calibrate: the first N, a seeded random N, or N stratified by class.</param>
/// <param name="CalibrationSeed">Seed of the random and stratified draws.</param>
/// <param name="ActivationObserver">One of <see cref="ActivationObserverNames.Choices"/>.</param>
/// <param name="Percentile">Used by the <c>percentile</c> observer, in (0, 100].</param>
/// <param name="KeepFloat">Conv / linear layers left in FP32, by node name, as <c>set_module_name(name, None)</c>.</param>
/// <param name="SensitivityImages">
/// Size of the validation split (training images, <see cref="ValidationSplit"/>) on which the per-layer report measures the
/// top-1 gain of leaving each layer alone in FP32; null skips it (unless a budget or <c>auto</c> needs the split: see <see cref="ValidationImages"/>).
/// </param>
/// <param name="MaxAccuracyDrop">
/// Accuracy budget in top-1 points against FP32, absolute: the most sensitive layers are left in FP32 one at a time
/// until the drop on the validation split is within it. Null: no budget.
/// </param>
/// <param name="MinSqnrDb">
/// A generic job's budget: the least SQNR (dB) of the int8 output against FP32 on the validation split; layers are left in
/// FP32 by the same search as <paramref name="MaxAccuracyDrop"/>'s until it is reached. Null: none.
/// </param>
/// <param name="MinAgreement">
/// A generic job's budget on the output's class axis: the least share (0-1) of positions whose arg-max equals FP32's.
/// With <paramref name="MinSqnrDb"/>, both must hold. Null: none.
/// </param>
/// <param name="BiasCorrection">
/// NNCF's fast bias correction: each int8 layer's bias absorbs the mean output shift its quantization causes on the
/// calibration images.
/// </param>
/// <param name="CrossLayerEqualization">
/// DFQ's cross-layer equalization on the BN-folded FP32 graph before calibration; ReLU6 becomes ReLU inside each
/// equalized conv pair (ADR-013).
/// </param>
public sealed record QuantizationOptions(
    string ActivationObserver = "histogram",
    double Percentile = 99.99,
    bool PerChannelWeights = true,
    bool SymmetricActivations = false,
    int CalibrationImages = 256,
    int CalibrationBatchSize = 128,
    IReadOnlyList<string>? KeepFloat = null,
    int? SensitivityImages = null,
    CalibrationSampling CalibrationSampling = CalibrationSampling.Stratified,
    int CalibrationSeed = 0,
    double? MaxAccuracyDrop = null,
    bool BiasCorrection = false,
    bool CrossLayerEqualization = false,
    double? MinSqnrDb = null,
    double? MinAgreement = null)
{
    /// <summary>The validation split's size for a budget or <c>auto</c> when <see cref="SensitivityImages"/> does not name one.</summary>
    public const int DefaultValidationImages = 1000;

    /// <summary>
    /// This many training images, drawn by <see cref="ValidationSplit.Draw"/> (never test images), form the validation split
    /// of the per-layer accuracy gains, of the budget search (which walks the report's ranking, so it needs those gains) and
    /// of the <c>auto</c> observer's choice; null when none is asked for.
    /// </summary>
    public int? ValidationImages =>
        SensitivityImages ?? (HasBudget || ActivationObserver == ActivationObserverNames.Auto ? DefaultValidationImages : null);

    /// <summary>Whether a fidelity budget (<see cref="MinSqnrDb"/>, <see cref="MinAgreement"/>) is set: a generic job's counterpart of <see cref="MaxAccuracyDrop"/>.</summary>
    public bool HasFidelityBudget => MinSqnrDb is not null || MinAgreement is not null;

    private bool HasBudget => MaxAccuracyDrop is not null || HasFidelityBudget;
}
