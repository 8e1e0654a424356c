namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>Quantization-aware fine-tuning after calibration: SGD (momentum 0.9) through fake quantization.</summary>
/// <param name="Enabled">Whether the job fine-tunes; off by default.</param>
/// <param name="Auto">
/// Fine-tune only when the job's accuracy budget (<c>maxAccuracyDrop</c>) is not met with every layer int8 after PTQ, on
/// the validation split; off by default (ADR-021). Ignored when <paramref name="Enabled"/>, or without a budget.
/// </param>
/// <param name="Epochs">Passes over the training images (or <paramref name="TrainSubset"/>).</param>
/// <param name="LearningRate">SGD learning rate: a fine-tuning rate, far below a training one.</param>
/// <param name="Distillation">Match the FP32 model's outputs (no labels needed) instead of the labels.</param>
/// <param name="TrainSubset">Fine-tune on the first N training images; null uses all.</param>
/// <param name="Seed">Seed of the batch order.</param>
public sealed record QatOptions(
    bool Enabled = false,
    int Epochs = 1,
    double LearningRate = 0.0001,
    int BatchSize = 64,
    bool Distillation = true,
    int? TrainSubset = null,
    int Seed = 0,
    bool Auto = false)
{
    /// <summary>Whether a job with these options (null: none) and this accuracy budget runs the Qat stage.</summary>
    public static bool RunsStage(QatOptions? options, double? maxAccuracyDrop) =>
        options is not null && (options.Enabled || (options.Auto && maxAccuracyDrop is not null));
}
