using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline;

/// <summary>What every stage of one job needs; opens the dataset once, on first use.</summary>
internal sealed class StageContext(
    PipelineStage stage,
    OptimizationRequest request,
    JobWorkspace workspace,
    IProgress<PipelineProgress> progress,
    CancellationToken cancellationToken) : IDisposable
{
    private DatasetSplits? data;

    public PipelineStage Stage { get; } = stage;

    public OptimizationRequest Request { get; } = request;

    public JobWorkspace Workspace { get; } = workspace;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public DatasetInfo Dataset { get; } = DatasetCatalog.Get(request.Dataset);

    public DatasetSplits Data => data ??= Dataset.Open(Request.DataPath);

    public long[] InputShape => [Dataset.Channels, ImageTransform.ImageSize, ImageTransform.ImageSize];

    public Int8ModelDescriptor Descriptor => new(Request.Model, InputShape, Dataset.Classes);

    public void Report(double fraction, string message) => progress.Report(new PipelineProgress(Stage, Math.Clamp(fraction, 0, 1), message));

    public ZooModel CreateModel() => ModelZoo.Create(Request.Model, Dataset.Channels, Dataset.Classes);

    /// <summary>The FP32 model the job starts from: the zoo model with its checkpoint (the user's or the trained one), or the ONNX file.</summary>
    public Fp32Model OpenFp32() => Fp32Model.Open(Request.Model, InputShape, Dataset.Classes, Workspace.Fp32Checkpoint(Request));

    /// <summary>The .onnx file an ONNX job's int8 checkpoint is rebuilt from; null for zoo models.</summary>
    public string? OnnxModelPath => OnnxModelName.IsOnnx(Request.Model) ? Request.CheckpointPath : null;

    public void Dispose() => data?.Dispose();
}
