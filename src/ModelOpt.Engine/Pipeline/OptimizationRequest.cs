namespace ModelOpt.Engine.Pipeline;

/// <summary>Everything one optimization job needs; the worker builds it from the job row.</summary>
/// <param name="Model">A <see cref="Models.ModelZoo"/> name.</param>
/// <param name="Dataset">A dataset catalogue name (<c>fashion-mnist</c>, <c>cifar10</c>, <c>synthetic</c>).</param>
/// <param name="DataPath">Folder of the dataset files; null for the dataset's default.</param>
/// <param name="CheckpointPath">FP32 checkpoint to start from; null trains first.</param>
public sealed record OptimizationRequest(
    string Model,
    string Dataset,
    string? DataPath,
    string? CheckpointPath,
    TrainingOptions Training,
    QuantizationOptions Quantization,
    EvaluationOptions Evaluation,
    string Device = "cpu");
