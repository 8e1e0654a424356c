using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// SGD (momentum 0.9) with cross-entropy, as the notebook trains. Used only when no checkpoint is given. One definition:
/// the API's <c>training</c> settings, the job's stored spec and what the trainer reads.
/// </summary>
public sealed record TrainingOptions
{
    [Range(1, 1000), Description("Epochs over the training set (or subset).")]
    public int Epochs { get; init; } = 1;

    [Range(1e-7, 10.0), Description("SGD learning rate.")]
    public double LearningRate { get; init; } = 0.01;

    [Range(1, 4096), Description("Training batch size.")]
    public int BatchSize { get; init; } = 128;

    [Range(1, 10_000_000), Description("Train on the first N training images; null uses all of them.")]
    public int? TrainSubset { get; init; }

    [Range(0, int.MaxValue), Description("Seed of initialisation and shuffling.")]
    public int Seed { get; init; }
}
