using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The job's qconfig and calibration in PyTorch's vocabulary. The defaults are <c>get_default_x86_inductor_quantization_config()</c>:
/// histogram-observed uint8 affine per-tensor activations, int8 symmetric per-channel weights, calibrated on 256 training
/// images stratified by class (seeded; the notebook's first 256 with <see cref="Data.CalibrationSampling.First"/>) in batches of 128.
/// </summary>
public sealed record QuantizationOptions : IValidatableObject
{
    /// <summary>The validation split's size for a budget or <c>auto</c> when <see cref="SensitivityImages"/> does not name one.</summary>
    public const int DefaultValidationImages = 1000;

    [Required, ActivationObserverChoice,
     EngineDescription("Activation observer: {observers}. '{auto}' calibrates with each of {auto-candidates} and keeps the one " +
        "scoring best on the validation split (sensitivityImages training images, {validation-images} when not given; never test images); the convert " +
        "stage's note and observer-selection.json say which won.")]
    public string ActivationObserver { get; init; } = ActivationObserverNames.Histogram;

    [Range(0.0001, 100.0), Description("Percentile kept by the 'percentile' observer, in (0, 100].")]
    public double Percentile { get; init; } = 99.99;

    [Description("Per-channel symmetric int8 weights (true) or per-tensor (false).")]
    public bool PerChannelWeights { get; init; } = true;

    [Description("Symmetric activations instead of uint8 affine.")]
    public bool SymmetricActivations { get; init; }

    [Range(1, 1_000_000), Description("Training images used to calibrate the observers.")]
    public int CalibrationImages { get; init; } = 256;

    [Range(1, 4096), Description("Calibration batch size.")]
    public int CalibrationBatchSize { get; init; } = 128;

    /// <summary>Left in FP32 as <c>set_module_name(name, None)</c> does. "keepFloat": null is the empty list, not a failed job.</summary>
    [MaxLength(1000), Description("Conv / linear layers left in FP32 inside the int8 model, by node name (as in the int8 manifest); " +
        "a name the model does not have fails the job with the list of its layers.")]
    public IReadOnlyList<string> KeepFloat { get; init => field = value ?? []; } = [];

    [Range(1, 1_000_000), Description("Size of the validation split: training images (seeded, stratified by class, outside the calibration " +
        "sample while enough are left; listed in validation-split.json) on which the per-layer report measures the top-1 gain of " +
        "leaving each layer alone in FP32 (one simulated run per layer), and the budget and 'auto' decide. Null reports SQNR and MSE only.")]
    public int? SensitivityImages { get; init; }

    [Range(0.0, 100.0), EngineDescription("Accuracy budget: the most top-1 points (absolute) the int8 model may lose against FP32 on the " +
        "validation split (sensitivityImages training images, {validation-images} when not given; the test set is only scored). Over it, the report's most sensitive layers are left " +
        "in FP32 one at a time, re-measuring, until the drop is within it; an unreachable budget still delivers the best model and " +
        "says so in the convert stage's note, which gives the drop on the test images too. Null: no budget.")]
    public double? MaxAccuracyDrop { get; init; }

    [Range(-100.0, 300.0), Description("A generic job's counterpart of maxAccuracyDrop: the least SQNR (dB) of the int8 model's output against " +
        "FP32's on the validation split (ADR-020). Below it, the report's most sensitive layers are left in FP32 one at a time, re-measuring " +
        "on the delivered kernels, until it is reached. Null: no target. A classification job refuses it (use maxAccuracyDrop).")]
    public double? MinSqnrDb { get; init; }

    [Range(0.0, 1.0), Description("A generic job's target on the output's class axis (output.classAxis): the least share (0-1) of positions " +
        "whose arg-max equals FP32's, on the validation split, reached by the same search as minSqnrDb (both must hold when both are given). Null: no target.")]
    public double? MinAgreement { get; init; }

    [Description("Fast bias correction (NNCF): each int8 layer's bias absorbs the mean output shift its quantization causes on the calibration images.")]
    public bool BiasCorrection { get; init; }

    [Description("Cross-layer equalization (DFQ, Nagel et al. 2019): before calibration, each conv pair joined by ReLU, ReLU6 or nothing " +
        "has its channel ranges balanced, so per-tensor scales fit every channel. ReLU6 becomes ReLU inside an equalized pair: the " +
        "calibrate stage's cross-layer-equalization.json gives the equalized FP32 model's accuracy beside the FP32 row.")]
    public bool CrossLayerEqualization { get; init; }

    [Description("Which training images calibrate: stratified (an equal share of every class, seeded; whatever the order of the files) | " +
        "first (the notebook's first N; the convert stage's note warns when they miss classes) | random (seeded).")]
    public CalibrationSampling CalibrationSampling { get; init; } = CalibrationSampling.Stratified;

    [Range(0, int.MaxValue), Description("Seed of the random and stratified calibration draws.")]
    public int CalibrationSeed { get; init; }

    [Range(0, MaxCalibrationSpreadSeeds), Description("Measure how much the calibration sample moves this model's int8 result: the convert stage " +
        "rebuilds the all-int8 model from this many samples (calibrationSeed, calibrationSeed+1, ...; same sampling, size and observer), scores each " +
        "on the validation split (the evaluation images without one; top-1, or a generic job's worst-output SQNR) and records the values and their " +
        "spread in the int8 manifest and the converted row's note. Costs one calibration, build and scoring per extra seed. 0: not measured " +
        "(the manifest quotes the benchmark models' spread); otherwise 2-10 with random or stratified sampling.")]
    public int CalibrationSpreadSeeds { get; init; }

    public const int MaxCalibrationSpreadSeeds = 10;

    /// <summary>
    /// This many training images, drawn by <see cref="ValidationSplit.Draw"/> (never test images), form the validation split
    /// of the per-layer accuracy gains, of the budget search (which walks the report's ranking, so it needs those gains) and
    /// of the <c>auto</c> observer's choice; null when none is asked for.
    /// </summary>
    [JsonIgnore]
    public int? ValidationImages =>
        SensitivityImages ?? (HasBudget || ActivationObserver == ActivationObserverNames.Auto ? DefaultValidationImages : null);

    /// <summary>Whether a fidelity budget (<see cref="MinSqnrDb"/>, <see cref="MinAgreement"/>) is set: a generic job's counterpart of <see cref="MaxAccuracyDrop"/>.</summary>
    [JsonIgnore]
    public bool HasFidelityBudget => MinSqnrDb is not null || MinAgreement is not null;

    private bool HasBudget => MaxAccuracyDrop is not null || HasFidelityBudget;

    /// <summary>A top-1 budget and a fidelity target belong to different tasks (ADR-020): one job cannot have both.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxAccuracyDrop is not null && HasFidelityBudget)
        {
            yield return new ValidationResult(
                "maxAccuracyDrop is a classification job's budget (top-1 against labels), minSqnrDb and minAgreement a generic job's " +
                "(fidelity to FP32): give one or the other.",
                [nameof(MaxAccuracyDrop)]);
        }
        if (CalibrationSpreadSeeds == 1)
        {
            yield return new ValidationResult(
                "calibrationSpreadSeeds is the number of calibration samples compared: 0 (not measured) or 2-10.", [nameof(CalibrationSpreadSeeds)]);
        }
        if (CalibrationSpreadSeeds > 0 && CalibrationSampling == CalibrationSampling.First)
        {
            yield return new ValidationResult(
                "calibrationSpreadSeeds needs calibrationSampling random or stratified: with 'first' every seed draws the same images.",
                [nameof(CalibrationSpreadSeeds)]);
        }
    }
}
