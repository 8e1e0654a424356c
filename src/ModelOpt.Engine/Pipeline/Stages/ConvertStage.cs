using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// The notebook's convert step as a deployable model: the graph calibrate already converted to int8 (PyTorch's
/// <c>convert_pt2e</c> runs there) is lowered to a TorchScript module over LibTorch's quantized CPU kernels and measured the
/// notebook's way. Its archive (self-contained, loads in LibTorch and PyTorch) and manifest are the int8 download.
/// </summary>
internal static class ConvertStage
{
    public static StageProducts Run(StageContext context)
    {
        var (quantized, descriptor) = context.OpenInt8();
        var engine = QuantizedEngine.For(quantized.Graph);
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            context.Workspace.Write(JobWorkspace.Int8TorchScript, model.Save);
            var size = new FileInfo(context.Workspace.PathOf(JobWorkspace.Int8TorchScript)).Length;
            var allLayersInt8 = context.Workspace.Has(JobWorkspace.Int8AllLayersSafeTensors);
            var measured = ModelMeasurement.Measure(context, Backend(engine), model.Run, size, progressTo: allLayersInt8 ? 0.5 : 1);
            var sample = CalibrateStage.RecordedSample(context.Workspace);
            var metrics = measured with { Note = Note(context.Workspace, sample, measured) };
            var manifest = Int8Manifest.Create(quantized, descriptor, engine) with
            {
                Metrics = MetricsOf(metrics),
                InputTransform = Int8InputTransform.From(context.Preprocessing),
                Calibration = sample is null ? null : Int8CalibrationRecord.From(sample),
            };
            context.Workspace.Write(JobWorkspace.Int8Manifest, path => File.WriteAllText(path, manifest.ToJson()));
            context.Workspace.Delete(JobWorkspace.Int8Fidelity);
            if (metrics.Fidelity is { } fidelity)
            {
                context.Workspace.Write(JobWorkspace.Int8Fidelity, path => File.WriteAllText(path, FidelityJson.Serialize(fidelity)));
            }
            return new StageProducts(
                allLayersInt8 ? [metrics, MeasureAllLayersInt8(context)] : [metrics],
                [
                    context.Workspace.Artifact(JobWorkspace.Int8TorchScript),
                    context.Workspace.Artifact(JobWorkspace.Int8Manifest, "application/json"),
                    context.Workspace.Artifact(JobWorkspace.Int8SafeTensors),
                ]);
        }
    }

    public const string AccuracyMetric = "accuracy";
    public const string ImagesScoredMetric = "images_scored";

    /// <summary>
    /// What calibrate chose for this model (the <c>auto</c> observer's winner, the budget's FP32 layers) and, when it
    /// decided on the validation split, the drop on the test images beside the split's; a calibration sample that misses
    /// classes is warned about. In words; null when nothing.
    /// </summary>
    private static string? Note(JobWorkspace workspace, CalibrationSample? sample, StageMetrics int8)
    {
        string? Read(string file, Func<string, string> describe) => workspace.Has(file) ? describe(File.ReadAllText(workspace.PathOf(file))) : null;
        var notes = new[]
        {
            sample?.Warning,
            Read(JobWorkspace.CrossLayerEqualization, json => CrossLayerEqualizationResult.FromJson(json).Describe()),
            Read(JobWorkspace.ObserverSelection, json => ActivationObserverSelection.FromJson(json).Describe()),
            Read(JobWorkspace.AccuracyBudget, json => AccuracyBudgetOutcome.FromJson(json) is var budget && !budget.WithinBudget && !workspace.Has(JobWorkspace.Qat)
                ? budget.Describe() + " (quantization-aware fine-tuning, qat.enabled, may recover the rest)"
                : budget.Describe()),
            Read(JobWorkspace.Qat, json => QatOutcome.FromJson(json).Describe()),
            Read(JobWorkspace.FidelityBudget, json => FidelityBudgetOutcome.FromJson(json).Describe()),
            workspace.Has(JobWorkspace.ValidationSplit) ? Read(JobWorkspace.Fp32TestAccuracy, json => TestDrop(json, int8)) : null,
        }.OfType<string>().ToList();
        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    // Scored only, never decided on: what the user gets on images no choice was tuned to.
    private static string TestDrop(string fp32Json, StageMetrics int8)
    {
        var fp32 = JsonSerializer.Deserialize<AccuracyResult>(fp32Json) ?? throw new JsonException("The FP32 accuracy file is empty.");
        return string.Create(
            CultureInfo.InvariantCulture, $"drop on the {int8.ImagesScored} test images (scored only): {100 * (fp32.Accuracy - int8.Accuracy):F2} pt");
    }

    // The model the budget rejected, measured beside the delivered one: the latency the FP32 layers cost. Not delivered.
    private static StageMetrics MeasureAllLayersInt8(StageContext context)
    {
        var (quantized, _) = Int8SafeTensorsCheckpoint.Load(context.Workspace.PathOf(JobWorkspace.Int8AllLayersSafeTensors), context.OnnxModelPath);
        var engine = QuantizedEngine.For(quantized.Graph);
        using (quantized)
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            var metrics = ModelMeasurement.Measure(context, Backend(engine), model.Run, model.SerializedSizeBytes, progressFrom: 0.5);
            var budget = context.IsGeneric ? "short of the fidelity target" : "over the accuracy budget";
            return metrics with { Selected = false, Note = $"every layer int8: {budget}, measured for the latency the FP32 layers cost" };
        }
    }

    public static string Backend(QEngine engine) => $"libtorch-int8-{engine.ToString().ToLowerInvariant()}";

    // A generic job's manifest has no accuracy; its fidelity is in the stage's results (an SQNR may be +inf, which JSON numbers cannot hold).
    private static Dictionary<string, double> MetricsOf(StageMetrics metrics)
    {
        var values = new Dictionary<string, double>
        {
            ["size_bytes"] = metrics.SizeBytes,
            [ImagesScoredMetric] = metrics.ImagesScored,
            ["latency_mean_ms"] = metrics.LatencyMeanMs,
            ["latency_std_ms"] = metrics.LatencyStdMs,
            ["batch_size"] = metrics.BatchSize,
        };
        if (metrics.Accuracy is { } accuracy)
        {
            values[AccuracyMetric] = accuracy;
        }
        return values;
    }
}
