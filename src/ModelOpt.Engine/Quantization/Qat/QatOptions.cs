using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>
/// Quantization-aware fine-tuning after calibration (the Qat stage): the int8 layers' weights trained through fake
/// quantization (SGD, momentum 0.9), then converted to the same int8 kernels. For when post-training quantization loses too much.
/// </summary>
public sealed record QatOptions
{
    [Description("Run the Qat stage between calibrate and convert. Off by default; a job whose accuracy budget is not met says so in its note.")]
    public bool Enabled { get; init; }

    [Description("Run the Qat stage only when quantization.maxAccuracyDrop is not met with every layer int8 after PTQ (judged on the " +
        "validation split); the budget's search then runs on the fine-tuned model. Off by default: fine-tuning costs training time " +
        "(ADR-021). Ignored when enabled is true or without a budget.")]
    public bool Auto { get; init; }

    [Range(1, 100), Description("Epochs over the training images outside the validation split (or trainSubset of them).")]
    public int Epochs { get; init; } = 1;

    // 0.001: met the budget case all-int8 where 0.0001 kept a layer FP32, and raised resnet20's distilled QAT (ADR-021).
    [Range(1e-8, 1.0), Description("SGD learning rate (momentum 0.9): a fine-tuning rate, far below a training one. " +
        "Fine-tuned weights that score below PTQ on the validation split are not delivered.")]
    public double LearningRate { get; init; } = 0.001;

    [Range(1, 4096), Description("Fine-tuning batch size.")]
    public int BatchSize { get; init; } = 64;

    [Description("Match the FP32 model's outputs (KL divergence of the softmax; no labels needed) instead of training against the labels.")]
    public bool Distillation { get; init; } = true;

    [Range(1, 10_000_000), Description("Fine-tune on the first N training images outside the validation split; null uses all of them.")]
    public int? TrainSubset { get; init; }

    [Range(0, int.MaxValue), Description("Seed of the batch order.")]
    public int Seed { get; init; }

    /// <summary>Whether a job with these options (null: none) and this accuracy budget runs the Qat stage.</summary>
    public static bool RunsStage(QatOptions? options, double? maxAccuracyDrop) =>
        options is not null && (options.Enabled || (options.Auto && maxAccuracyDrop is not null));
}
