namespace ModelOpt.Engine.Pipeline;

/// <summary>SGD (momentum 0.9) with cross-entropy, as the notebook trains. <see cref="TrainSubset"/> null uses every training image.</summary>
public sealed record TrainingOptions(int Epochs = 1, double LearningRate = 0.01, int BatchSize = 128, int? TrainSubset = null, int Seed = 0);
