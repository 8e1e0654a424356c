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
        var (quantized, descriptor) = context.OpenInt8();
        var engine = QuantizedEngine.For(quantized.Graph);
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            context.Workspace.Write(JobWorkspace.Int8TorchScript, model.Save);
            var size = new FileInfo(context.Workspace.PathOf(JobWorkspace.Int8TorchScript)).Length;
            var metrics = ModelMeasurement.Measure(context, Backend(engine), model.Run, size);
            var sample = CalibrateStage.RecordedSample(context.Workspace);
            var manifest = Int8Manifest.Create(quantized, descriptor, engine) with
            {
                Metrics = MetricsOf(metrics),
                InputTransform = Int8InputTransform.From(context.Preprocessing),
                Calibration = sample is null ? null : Int8CalibrationRecord.From(sample),
            };
            context.Workspace.Write(JobWorkspace.Int8Manifest, path => File.WriteAllText(path, manifest.ToJson()));
            return new StageResult(
                [metrics],
                [
                    context.Workspace.Artifact(JobWorkspace.Int8TorchScript),
                    context.Workspace.Artifact(JobWorkspace.Int8Manifest, "application/json"),
                    context.Workspace.Artifact(JobWorkspace.Int8SafeTensors),
                ]);
        }
    }

    public const string AccuracyMetric = "accuracy";
    public const string ImagesScoredMetric = "images_scored";

    public static string Backend(QEngine engine) => $"libtorch-int8-{engine.ToString().ToLowerInvariant()}";

    private static Dictionary<string, double> MetricsOf(StageMetrics metrics) => new()
    {
        ["size_bytes"] = metrics.SizeBytes,
        [AccuracyMetric] = metrics.Accuracy,
        [ImagesScoredMetric] = metrics.ImagesScored,
        ["latency_mean_ms"] = metrics.LatencyMeanMs,
        ["latency_std_ms"] = metrics.LatencyStdMs,
        ["batch_size"] = metrics.BatchSize,
    };
}
