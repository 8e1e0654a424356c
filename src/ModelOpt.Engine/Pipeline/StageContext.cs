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
    private JobTask? task;

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

    /// <summary>
    /// Whether the dataset has class labels. The one place the pipeline asks: a generic job reads no label unless this
    /// says there are some (stratified calibration uses them then), a classification job needs them.
    /// </summary>
    public bool HasLabels => Classes > 0;

    /// <summary>
    /// What the job judges its forms by: the request's task, or, when it names none, classification when the FP32 model's
    /// output is (N, classes) logits and the dataset has labels, generic otherwise (ADR-020). Checked against the
    /// quantization settings: a budget must be the task's own.
    /// </summary>
    /// <exception cref="ArgumentException">The task and the model, data or budget settings do not fit.</exception>
    public JobTask Task => task ??= DecideTask();

    public bool IsGeneric => Task == JobTask.Generic;

    /// <summary>
    /// The axis a generic job compares arg-maxes on, as the request gives it; each output applies it where it has that
    /// axis, and without one a 2-D output uses axis 1 (<see cref="Evaluation.FidelityEvaluator.ClassAxisOf"/>).
    /// </summary>
    public int? ClassAxis => Request.ClassAxis;

    public Int8ModelDescriptor Descriptor
    {
        get
        {
            // A model whose output is not a row of logits records no classes, so its rebuild accepts the output it has.
            var logitsWidth = OpenFp32() is { HasSeveralOutputs: false, OutputShape: [var width] } ? width : 0;
            return new(Request.Model, InputShape, IsGeneric ? logitsWidth : Classes, IsGeneric ? null : Request.UploadedDataset?.ClassNames, Request.OutputName);
        }
    }

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
    /// <exception cref="ArgumentException">A classification job's model does not give (N, classes) logits.</exception>
    public Fp32Model OpenFp32()
    {
        var model = OpenFp32AnyOutput();
        if (!IsGeneric && model.HasSeveralOutputs)
        {
            throw new ArgumentException(
                $"A classification job measures one output, its logits; this model has {model.Outputs.Outputs.Count} ({string.Join(", ", model.Outputs.Names)}). " +
                "Name the logits with output.name, or set output.task to \"generic\" to measure every output's fidelity to FP32.");
        }
        if (!IsGeneric && !model.OutputShape.SequenceEqual([Classes]))
        {
            throw new ArgumentException(
                $"A classification job needs (N, {Classes}) logits for the dataset's {Classes} classes; output '{model.OutputName}' is " +
                $"[N, {string.Join(", ", model.OutputShape)}]. Set output.task to \"generic\" to measure fidelity to FP32 instead.");
        }
        return model;
    }

    // An ONNX model's output is read whatever its shape; the task decides what it must be.
    private Fp32Model OpenFp32AnyOutput()
    {
        var checkpoint = Workspace.Fp32Checkpoint(Request);
        var shape = InputShape;
        // A zoo model's head: the dataset's classes for a classification job; for a generic job, which compares with FP32
        // and not with labels, the checkpoint's own (null), so that its data may have other classes or none (ADR-020). The
        // task is read only where it is already known: deciding it opens the model only for a labeled set with no task given.
        long? classes = OnnxModelName.IsOnnx(Request.Model) || Request.Task == JobTask.Generic || !HasLabels ? null : Classes;
        return memory.Get(
            "fp32", $"{Request.Model}|{string.Join(',', shape)}|{classes}|{Request.OutputName}|{JobMemory.FileIdentity(checkpoint)}",
            () => Fp32Model.Open(Request.Model, shape, classes, checkpoint, Request.OutputName));
    }

    private JobTask DecideTask()
    {
        var options = Request.Quantization;
        var decided = Request.Task ?? (HasLabels && OpenFp32AnyOutput() is { HasSeveralOutputs: false, OutputShape.Length: 1 } ? JobTask.Classification : JobTask.Generic);
        if (decided == JobTask.Classification && !HasLabels)
        {
            throw new ArgumentException("A classification job needs a dataset with class labels; this one has none. Set output.task to \"generic\".");
        }
        if (decided == JobTask.Classification && (options.HasFidelityBudget || Request.ClassAxis is not null))
        {
            throw new ArgumentException(
                "quantization.minSqnrDb, quantization.minAgreement and output.classAxis are for generic jobs; this job is a classification " +
                "job (use quantization.maxAccuracyDrop, or set output.task to \"generic\").");
        }
        if (decided == JobTask.Generic && options.MaxAccuracyDrop is not null)
        {
            throw new ArgumentException(
                "quantization.maxAccuracyDrop is top-1 against labels; this job is generic (fidelity to FP32): use quantization.minSqnrDb or quantization.minAgreement.");
        }
        // classAxis applies to every output that has it: at least one must.
        var outputs = OpenFp32AnyOutput().Outputs.Outputs;
        if (decided == JobTask.Generic && Request.ClassAxis is { } axis && outputs.All(o => Evaluation.FidelityEvaluator.ClassAxisOf(axis, o.Shape.Length + 1) is null))
        {
            Evaluation.FidelityAccumulator.ResolveAxis(axis, outputs[0].Shape.Length + 1, outputs[0].Name);
        }
        if (decided == JobTask.Generic && options.MinAgreement is not null && outputs.All(o => Evaluation.FidelityEvaluator.ClassAxisOf(Request.ClassAxis, o.Shape.Length + 1) is null))
        {
            throw new ArgumentException("quantization.minAgreement compares arg-maxes on a class axis: give output.classAxis (no output is 2-D).");
        }
        return decided;
    }

    /// <summary>The convert stage's int8 graph, rebuilt from its safetensors file. The job's memory owns it: do not dispose it.</summary>
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
