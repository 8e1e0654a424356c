namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>Quantization-aware fine-tuning after calibration: SGD (momentum 0.9) through fake quantization.</summary>
/// <param name="Enabled">Whether the job fine-tunes; off by default.</param>
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
    int Seed = 0);
