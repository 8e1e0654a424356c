using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// What every stage of one job needs. The dataset, the FP32 model and the int8 graph are opened on first use and kept in
/// the job's <see cref="JobMemory"/>, which owns them: the next stage of the job in this process gets them without a reload.
/// </summary>
internal sealed class StageContext(
    PipelineStage stage,
    OptimizationRequest request,
    JobWorkspace workspace,
    JobMemory memory,
    IProgress<PipelineProgress> progress,
    CancellationToken cancellationToken)
{
    private DatasetSplits? data;

    public PipelineStage Stage { get; } = stage;

    public OptimizationRequest Request { get; } = request;

    public JobWorkspace Workspace { get; } = workspace;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The built-in dataset; null when the job uses an uploaded one.</summary>
    public DatasetInfo? Dataset { get; } = request.UploadedDataset is null ? DatasetCatalog.Get(request.Dataset) : null;

    public ImagePreprocessing Preprocessing => Request.Preprocessing ?? ImagePreprocessing.Notebook;

    /// <summary>Both splits, every batch under the job's <see cref="Preprocessing"/>.</summary>
    public DatasetSplits Data => data ??= WithPreprocessing(memory.Get("dataset", DatasetIdentity(), OpenStored));

    /// <summary>Channels the model sees: the dataset's after the colour conversion.</summary>
    public int Channels => Preprocessing.OutputChannels(Request.UploadedDataset?.Channels ?? Dataset!.Channels);

    public int Classes => Request.UploadedDataset?.ClassNames.Count ?? Dataset!.Classes;

    public long[] InputShape
    {
        get
        {
            (int Height, int Width) size = Request.UploadedDataset is { ImageSize: { } uploaded } ? uploaded
                : Preprocessing.HasFixedOutputSize ? (1, 1)
                : Data.Train.ImageSize ?? throw new DatasetException("The dataset's images differ in size: give centerCrop or an exact resize.");
            var (height, width) = Preprocessing.OutputSize(size.Height, size.Width);
            return [Channels, height, width];
        }
    }

    public Int8ModelDescriptor Descriptor => new(Request.Model, InputShape, Classes, Request.UploadedDataset?.ClassNames, Request.OutputName);

    /// <summary>The dataset's identity for the calibration sample's hash: the upload's SHA-256, or that of the built-in set's files.</summary>
    public string DatasetSha256() => Request.UploadedDataset?.Sha256
        ?? (Dataset!.RequiredFiles.Count == 0
            ? DatasetFingerprint.OfName(Dataset.Name)
            : DatasetFingerprint.OfFiles(Dataset.RequiredFiles.Select(f => Path.Combine(Request.DataPath ?? Dataset.DefaultPath ?? "", f))));

    public void Report(double fraction, string message) => progress.Report(new PipelineProgress(Stage, Math.Clamp(fraction, 0, 1), message));

    public ZooModel CreateModel() => ModelZoo.Create(Request.Model, Channels, Classes);

    /// <summary>
    /// The FP32 model the job starts from: the zoo model with its checkpoint (the user's or the trained one), or the ONNX
    /// file. The job's memory owns it: do not dispose it.
    /// </summary>
    public Fp32Model OpenFp32()
    {
        var checkpoint = Workspace.Fp32Checkpoint(Request);
        var shape = InputShape;
        return memory.Get(
            "fp32", $"{Request.Model}|{string.Join(',', shape)}|{Classes}|{JobMemory.FileIdentity(checkpoint)}|{Request.OutputName}",
            () => Fp32Model.Open(Request.Model, shape, Classes, checkpoint, Request.OutputName));
    }

    /// <summary>The calibrate stage's int8 graph, rebuilt from its safetensors file. The job's memory owns it: do not dispose it.</summary>
    public Int8CheckpointInMemory OpenInt8()
    {
        var path = Workspace.PathOf(JobWorkspace.Int8SafeTensors);
        return memory.Get(
            "int8", $"{JobMemory.FileIdentity(path)}|{OnnxModelPath}",
            () =>
            {
                var (quantized, descriptor) = Int8SafeTensorsCheckpoint.Load(path, OnnxModelPath);
                return new Int8CheckpointInMemory(quantized, descriptor);
            });
    }

    /// <summary>The .onnx file an ONNX job's int8 checkpoint is rebuilt from; null for zoo models.</summary>
    public string? OnnxModelPath => OnnxModelName.IsOnnx(Request.Model) ? Request.CheckpointPath : null;

    private string DatasetIdentity() => Request.UploadedDataset is { } upload
        ? $"upload|{upload.Path}|{upload.Sha256}|{upload.Limits}|{Request.Split}"
        : $"{Request.Dataset}|{Request.DataPath}";

    private DatasetSplits OpenStored() => Request.UploadedDataset is { } upload
        ? UploadedDatasets.Open(upload, Request.Split ?? new DatasetSplitOptions(), upload.Limits ?? new DatasetFileLimits())
        : Dataset!.Open(Request.DataPath);

    private DatasetSplits WithPreprocessing(DatasetSplits splits) =>
        new(splits.Train.WithPreprocessing(Preprocessing), splits.Test.WithPreprocessing(Preprocessing));
}
