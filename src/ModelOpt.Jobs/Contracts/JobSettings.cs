using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Jobs.Contracts;

/// <summary>SGD (momentum 0.9) with cross-entropy, as the notebook trains. Used only when no checkpoint is given.</summary>
public sealed class TrainingSettings
{
    [Range(1, 1000), Description("Epochs over the training set (or subset).")]
    public int Epochs { get; set; } = 1;

    [Range(1e-7, 10.0), Description("SGD learning rate.")]
    public double LearningRate { get; set; } = 0.01;

    [Range(1, 4096), Description("Training batch size.")]
    public int BatchSize { get; set; } = 128;

    [Range(1, 10_000_000), Description("Train on the first N training images; null uses all of them.")]
    public int? TrainSubset { get; set; }

    [Range(0, int.MaxValue), Description("Seed of initialisation and shuffling.")]
    public int Seed { get; set; }

    public TrainingOptions ToEngine() => new(Epochs, LearningRate, BatchSize, TrainSubset, Seed);
}

/// <summary>The qconfig and calibration, in PyTorch's vocabulary; defaults are the x86 inductor recipe.</summary>
public sealed class QuantizationSettings : IValidatableObject
{
    [Required, ActivationObserverChoice,
     EngineDescription("Activation observer: {observers}. '{auto}' calibrates with each of {auto-candidates} and keeps the one " +
        "scoring best on the validation split (sensitivityImages training images, {validation-images} when not given; never test images); the convert " +
        "stage's note and observer-selection.json say which won.")]
    public string ActivationObserver { get; set; } = ActivationObserverNames.Histogram;

    [Range(0.0001, 100.0), Description("Percentile kept by the 'percentile' observer, in (0, 100].")]
    public double Percentile { get; set; } = 99.99;

    [Description("Per-channel symmetric int8 weights (true) or per-tensor (false).")]
    public bool PerChannelWeights { get; set; } = true;

    [Description("Symmetric activations instead of uint8 affine.")]
    public bool SymmetricActivations { get; set; }

    [Range(1, 1_000_000), Description("Training images used to calibrate the observers.")]
    public int CalibrationImages { get; set; } = 256;

    [Range(1, 4096), Description("Calibration batch size.")]
    public int CalibrationBatchSize { get; set; } = 128;

    [MaxLength(1000), Description("Conv / linear layers left in FP32 inside the int8 model, by node name (as in the int8 manifest); " +
        "a name the model does not have fails the job with the list of its layers.")]
    public List<string> KeepFloat { get; set => field = value ?? []; } = []; // "keepFloat": null is the empty list, not a failed job.

    [Range(1, 1_000_000), Description("Size of the validation split: training images (seeded, stratified by class, outside the calibration " +
        "sample while enough are left; listed in validation-split.json) on which the per-layer report measures the top-1 gain of " +
        "leaving each layer alone in FP32 (one simulated run per layer), and the budget and 'auto' decide. Null reports SQNR and MSE only.")]
    public int? SensitivityImages { get; set; }

    [Range(0.0, 100.0), EngineDescription("Accuracy budget: the most top-1 points (absolute) the int8 model may lose against FP32 on the " +
        "validation split (sensitivityImages training images, {validation-images} when not given; the test set is only scored). Over it, the report's most sensitive layers are left " +
        "in FP32 one at a time, re-measuring, until the drop is within it; an unreachable budget still delivers the best model and " +
        "says so in the convert stage's note, which gives the drop on the test images too. Null: no budget.")]
    public double? MaxAccuracyDrop { get; set; }

    [Range(-100.0, 300.0), Description("A generic job's counterpart of maxAccuracyDrop: the least SQNR (dB) of the int8 model's output against " +
        "FP32's on the validation split (ADR-020). Below it, the report's most sensitive layers are left in FP32 one at a time, re-measuring " +
        "on the delivered kernels, until it is reached. Null: no target. A classification job refuses it (use maxAccuracyDrop).")]
    public double? MinSqnrDb { get; set; }

    [Range(0.0, 1.0), Description("A generic job's target on the output's class axis (output.classAxis): the least share (0-1) of positions " +
        "whose arg-max equals FP32's, on the validation split, reached by the same search as minSqnrDb (both must hold when both are given). Null: no target.")]
    public double? MinAgreement { get; set; }

    [Description("Fast bias correction (NNCF): each int8 layer's bias absorbs the mean output shift its quantization causes on the calibration images.")]
    public bool BiasCorrection { get; set; }

    [Description("Cross-layer equalization (DFQ, Nagel et al. 2019): before calibration, each conv pair joined by ReLU, ReLU6 or nothing " +
        "has its channel ranges balanced, so per-tensor scales fit every channel. ReLU6 becomes ReLU inside an equalized pair: the " +
        "calibrate stage's cross-layer-equalization.json gives the equalized FP32 model's accuracy beside the FP32 row.")]
    public bool CrossLayerEqualization { get; set; }

    [Required, AllowedValues("first", "random", "stratified"),
     Description("Which training images calibrate: stratified (an equal share of every class, seeded; whatever the order of the files) | " +
        "first (the notebook's first N; the convert stage's note warns when they miss classes) | random (seeded).")]
    public string CalibrationSampling { get; set; } = "stratified";

    [Range(0, int.MaxValue), Description("Seed of the random and stratified calibration draws.")]
    public int CalibrationSeed { get; set; }

    /// <summary>A top-1 budget and a fidelity target belong to different tasks (ADR-020): one job cannot have both.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxAccuracyDrop is not null && (MinSqnrDb is not null || MinAgreement is not null))
        {
            yield return new ValidationResult(
                "maxAccuracyDrop is a classification job's budget (top-1 against labels), minSqnrDb and minAgreement a generic job's " +
                "(fidelity to FP32): give one or the other.",
                [nameof(MaxAccuracyDrop)]);
        }
    }

    public QuantizationOptions ToEngine() =>
        new(ActivationObserver, Percentile, PerChannelWeights, SymmetricActivations, CalibrationImages, CalibrationBatchSize,
            KeepFloat.Count == 0 ? null : KeepFloat, SensitivityImages,
            Enum.Parse<Engine.Data.CalibrationSampling>(CalibrationSampling, ignoreCase: true), CalibrationSeed, MaxAccuracyDrop, BiasCorrection,
            CrossLayerEqualization, MinSqnrDb, MinAgreement);
}

/// <summary>How each model form is measured: top-1 accuracy on the test set and latency of one batch.</summary>
public sealed class EvaluationSettings
{
    [Range(1, 10_000_000), Description("Score the first N test images; null scores all of them.")]
    public int? TestSubset { get; set; }

    [Range(1, 4096), Description("Batch size of the latency measurement.")]
    public int LatencyBatchSize { get; set; } = 128;

    [Range(0, 1000), Description("Untimed warm-up runs.")]
    public int WarmupRuns { get; set; } = 5;

    [Range(1, 10_000), Description("Timed runs (latency mean and standard deviation).")]
    public int TimedRuns { get; set; } = 50;

    public EvaluationOptions ToEngine() => new(TestSubset, LatencyBatchSize, WarmupRuns, TimedRuns);
}

/// <summary>The compile stage: the int8 model as a self-contained runtime file (TorchScript over LibTorch's int8 kernels, ONNX QDQ).</summary>
public sealed class CompileSettings
{
    [Description("Run the compile stage (false stops after conversion).")]
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Quantization-aware fine-tuning after calibration (the Qat stage): the int8 layers' weights trained through fake
/// quantization, then converted to the same int8 kernels. For when post-training quantization loses too much.
/// </summary>
public sealed class QatSettings
{
    [Description("Run the Qat stage between calibrate and convert. Off by default; a job whose accuracy budget is not met says so in its note.")]
    public bool Enabled { get; set; }

    [Description("Run the Qat stage only when quantization.maxAccuracyDrop is not met with every layer int8 after PTQ (judged on the " +
        "validation split); the budget's search then runs on the fine-tuned model. Off by default: fine-tuning costs training time. " +
        "Ignored when enabled is true or without a budget.")]
    public bool Auto { get; set; }

    [Range(1, 100), Description("Epochs over the training images outside the validation split (or trainSubset of them).")]
    public int Epochs { get; set; } = 1;

    [Range(1e-8, 1.0), Description("SGD learning rate (momentum 0.9): a fine-tuning rate, far below a training one.")]
    public double LearningRate { get; set; } = 0.0001;

    [Range(1, 4096), Description("Fine-tuning batch size.")]
    public int BatchSize { get; set; } = 64;

    [Description("Match the FP32 model's outputs (KL divergence of the softmax; no labels needed) instead of training against the labels.")]
    public bool Distillation { get; set; } = true;

    [Range(1, 10_000_000), Description("Fine-tune on the first N training images outside the validation split; null uses all of them.")]
    public int? TrainSubset { get; set; }

    [Range(0, int.MaxValue), Description("Seed of the batch order.")]
    public int Seed { get; set; }

    public QatOptions ToEngine() => new(Enabled, Epochs, LearningRate, BatchSize, Distillation, TrainSubset, Seed, Auto);
}

/// <summary>Which of the model's outputs the job reads, and what it is for.</summary>
public sealed class OutputSettings : IValidatableObject
{
    [MaxLength(256), Description("The ONNX graph output the job measures, by name; null: a generic job measures every output, a " +
        "classification job the only one (a classifier with several outputs must name its logits; ADR-023). " +
        "An ONNX checkpoint only: a name the graph does not have is refused with the list of its outputs.")]
    public string? Name { get; set; }

    [AllowedValues("classification", "generic", null),
     Description("What the job judges the int8 forms by: classification (top-1 against the dataset's labels) or generic (fidelity to the " +
        "FP32 model on the same images: SQNR, cosine, mean and max absolute error, arg-max agreement on the class axis; no labels needed; " +
        "ADR-020). Null: classification when the model has one output, (N, classes) logits, and the dataset has labels; generic otherwise.")]
    public string? Task { get; set; }

    [Range(-8, 8), Description("The output axis whose arg-max a generic job compares with FP32's (e.g. -1 for N x T x C sequence scores; " +
        "negative counts from the end, 0 is the batch axis and is refused); it applies to every output that has that axis. " +
        "Null: axis 1 of each 2-D output, none otherwise.")]
    public int? ClassAxis { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ClassAxis == 0)
        {
            yield return new ValidationResult("classAxis 0 is the batch axis: give the axis of the classes (1 for N x C, -1 for N x T x C).", [nameof(ClassAxis)]);
        }
        if (ClassAxis is not null && Task == "classification")
        {
            yield return new ValidationResult("classAxis is a generic job's: a classification job compares top-1 on axis 1 against labels.", [nameof(ClassAxis)]);
        }
    }

    public JobTask? TaskToEngine() => Task is null ? null : Enum.Parse<JobTask>(Task, ignoreCase: true);
}

/// <summary>Everything about a job's run besides model, data and checkpoint; stored with the job as JSON.</summary>
public sealed class JobSpec
{
    public TrainingSettings Training { get; set; } = new();
    public QuantizationSettings Quantization { get; set; } = new();
    public EvaluationSettings Evaluation { get; set; } = new();
    public CompileSettings Compile { get; set; } = new();
    public PreprocessingSettings Preprocessing { get; set; } = new();
    public SplitSettings Split { get; set; } = new();
    public OutputSettings Output { get; set; } = new();
    public QatSettings Qat { get; set; } = new();
}
