using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// convert: the calibrated graph becomes a TorchScript module over LibTorch's quantized CPU kernels, measured the
/// notebook's way. Its archive (self-contained, loads in LibTorch and PyTorch) and manifest are the int8 download.
/// </summary>
internal static class ConvertStage
{
    public static StageResult Run(StageContext context)
    {
        var (quantized, descriptor) = Int8SafeTensorsCheckpoint.Load(context.Workspace.PathOf(JobWorkspace.Int8SafeTensors), context.OnnxModelPath);
        var engine = QuantizedEngine.For(quantized.Graph);
        using (quantized)
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            context.Workspace.Write(JobWorkspace.Int8TorchScript, model.Save);
            var size = new FileInfo(context.Workspace.PathOf(JobWorkspace.Int8TorchScript)).Length;
            var budget = AccuracyBudget(context.Workspace);
            var metrics = ModelMeasurement.Measure(context, Backend(engine), model.Run, size, progressTo: budget is null ? 1 : 0.5) with { Note = budget?.Describe() };
            var sample = CalibrateStage.RecordedSample(context.Workspace);
            var manifest = Int8Manifest.Create(quantized, descriptor, engine) with
            {
                Metrics = MetricsOf(metrics),
                InputTransform = Int8InputTransform.From(context.Preprocessing),
                Calibration = sample is null ? null : Int8CalibrationRecord.From(sample),
            };
            context.Workspace.Write(JobWorkspace.Int8Manifest, path => File.WriteAllText(path, manifest.ToJson()));
            return new StageResult(
                budget is null ? [metrics] : [metrics, MeasureAllLayersInt8(context)],
                [
                    context.Workspace.Artifact(JobWorkspace.Int8TorchScript),
                    context.Workspace.Artifact(JobWorkspace.Int8Manifest, "application/json"),
                    context.Workspace.Artifact(JobWorkspace.Int8SafeTensors),
                ]);
        }
    }

    public const string AccuracyMetric = "accuracy";

    /// <summary>The calibrate stage's budget outcome when it kept layers FP32 (so an all-int8 model exists to compare with).</summary>
    private static AccuracyBudgetOutcome? AccuracyBudget(JobWorkspace workspace) =>
        workspace.Has(JobWorkspace.Int8AllLayersSafeTensors)
            ? AccuracyBudgetOutcome.FromJson(File.ReadAllText(workspace.PathOf(JobWorkspace.AccuracyBudget)))
            : null;

    // The model the budget rejected, measured beside the delivered one: the latency the FP32 layers cost. Not delivered.
    private static StageMetrics MeasureAllLayersInt8(StageContext context)
    {
        var (quantized, _) = Int8SafeTensorsCheckpoint.Load(context.Workspace.PathOf(JobWorkspace.Int8AllLayersSafeTensors), context.OnnxModelPath);
        var engine = QuantizedEngine.For(quantized.Graph);
        using (quantized)
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            var metrics = ModelMeasurement.Measure(context, Backend(engine), model.Run, model.SerializedSizeBytes, progressFrom: 0.5);
            return metrics with { Selected = false, Note = "every layer int8: over the accuracy budget, measured for the latency the FP32 layers cost" };
        }
    }

    public static string Backend(QEngine engine) => $"libtorch-int8-{engine.ToString().ToLowerInvariant()}";

    private static Dictionary<string, double> MetricsOf(StageMetrics metrics) => new()
    {
        ["size_bytes"] = metrics.SizeBytes,
        [AccuracyMetric] = metrics.Accuracy,
        ["images_scored"] = metrics.ImagesScored,
        ["latency_mean_ms"] = metrics.LatencyMeanMs,
        ["latency_std_ms"] = metrics.LatencyStdMs,
        ["batch_size"] = metrics.BatchSize,
    };
}
