using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Engine.Pipeline;

/// <summary>Everything one optimization job needs; the worker builds it from the job row, whose stored settings are these records.</summary>
/// <param name="Model">A <see cref="Models.ModelZoo"/> name.</param>
/// <param name="Dataset">A dataset catalogue name (<c>fashion-mnist</c>, <c>cifar10</c>, <c>synthetic</c>).</param>
/// <param name="DataPath">Folder of the dataset files; null for the dataset's default.</param>
/// <param name="CheckpointPath">FP32 checkpoint to start from; null trains first.</param>
/// <param name="UploadedDataset">The uploaded dataset file when the job uses one; <paramref name="Dataset"/> is then only its display name.</param>
/// <param name="Preprocessing">The input transform; null is the notebook's.</param>
/// <param name="Split">How an uploaded single set is split into train and test; null takes <see cref="DatasetSplitOptions"/>'s defaults.</param>
/// <param name="Compile">Whether the compile stage runs; without it the job ends after Convert. Null runs it.</param>
/// <param name="Output">Which output the job measures and whether by top-1 or fidelity to FP32; null decides as its defaults do.</param>
/// <param name="Qat">Quantization-aware fine-tuning after calibration; null or disabled skips the Qat stage.</param>
public sealed record OptimizationRequest(
    string Model,
    string Dataset,
    string? DataPath,
    string? CheckpointPath,
    TrainingOptions Training,
    QuantizationOptions Quantization,
    EvaluationOptions Evaluation,
    string Device = "cpu",
    UploadedDatasetFile? UploadedDataset = null,
    ImagePreprocessing? Preprocessing = null,
    DatasetSplitOptions? Split = null,
    CompileOptions? Compile = null,
    OutputOptions? Output = null,
    QatOptions? Qat = null)
{
    /// <summary>The ONNX graph output the job measures; null: every graph output (a classification job needs exactly one).</summary>
    public string? OutputName => Output?.Name;

    /// <summary>Top-1 against labels or fidelity to FP32; null decides by the model and data (<see cref="OutputOptions.Task"/>).</summary>
    public JobTask? Task => Output?.Task;

    /// <summary>The output axis a generic job compares with FP32's, on every output that has it; null: axis 1 of each 2-D output, none otherwise.</summary>
    public int? ClassAxis => Output?.ClassAxis;

    /// <summary>The compile section as the job runs it: its defaults when the request has none.</summary>
    public CompileOptions CompileSettings => Compile ?? new CompileOptions();

    public bool CompileEnabled => CompileSettings.Enabled;
}
