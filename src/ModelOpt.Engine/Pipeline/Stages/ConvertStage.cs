using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// PyTorch's <c>convert_pt2e</c> and the notebook's convert step as a deployable model: the int8 graph is built from the
/// activation qparams calibrate persisted and the FP32 weights (the Qat stage's fine-tuned weights when it ran), quantized
/// with the job's weight observer (<see cref="Int8Build"/>). On that model, as delivered, the per-layer sensitivity report
/// is measured and the accuracy budget (or a generic job's fidelity target) searches which layers to leave in FP32, on the
/// validation split of the training images. The delivered graph is persisted as the plain int8 safetensors form, lowered to
/// a TorchScript module over LibTorch's quantized CPU kernels and measured the notebook's way. Its archive
/// (self-contained, loads in LibTorch and PyTorch) and manifest are the int8 download.
/// </summary>
internal static class ConvertStage
{
    public static StageProducts Run(StageContext context)
    {
        var (layers, decisions, spread) = Quantize(context);
        var (quantized, descriptor) = context.OpenInt8();
        var engine = QuantizedEngine.For(quantized.Graph);
        using (var model = TorchScriptInt8Model.Build(quantized, engine))
        {
            context.Workspace.Write(JobWorkspace.Int8TorchScript, model.Save);
            var size = new FileInfo(context.Workspace.PathOf(JobWorkspace.Int8TorchScript)).Length;
            var allLayersInt8 = context.Workspace.Has(JobWorkspace.Int8AllLayersSafeTensors);
            var measured = ModelMeasurement.Measure(context, Backend(engine), model.Run, size, progressTo: allLayersInt8 ? 0.5 : 1);
            var sample = CalibrateStage.RecordedSample(context.Workspace);
            var metrics = measured with { Note = Note(context.Workspace, sample, measured, spread) };
            var manifest = Int8Manifest.Create(quantized, descriptor, engine) with
            {
                Metrics = MetricsOf(metrics),
                InputTransform = Int8InputTransform.From(context.Preprocessing),
                Calibration = sample is null ? null : Int8CalibrationRecord.From(sample) with
                {
                    Spread = spread is not null ? CalibrationSpread.For(spread) : context.IsGeneric ? null : CalibrationSpread.OnBenchmarkModels,
                },
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
                    .. decisions,
                ],
                layers);
        }
    }

    /// <summary>
    /// Builds the all-int8 graph from calibrate's qparams (and QAT's weights), measures the per-layer report on it, runs
    /// the budget's search when the job has one, and writes the delivered graph (and, when the budget kept layers FP32,
    /// the all-int8 one beside it). When the job asks, it measures how much the calibration sample moves the all-int8 model.
    /// </summary>
    private static (IReadOnlyList<LayerSensitivity> Layers, List<StageArtifact> Decisions, MeasuredCalibrationSpread? Spread) Quantize(StageContext context)
    {
        var calibration = Int8Build.Calibration(context.Workspace);
        var options = Int8Build.Options(context, calibration);
        var model = context.OpenFp32();
        var generic = context.IsGeneric;
        var sample = Int8Build.Sample(context.Workspace);
        using var images = context.Data.Train.Subset(sample.Indices);
        IEnumerable<Tensor> Batches() => images.Batches(options.CalibrationBatchSize).Select(b => b.Images);
        var progress = new SynchronousProgress<CalibrationProgress>(p => context.Report(0, $"calibrating a mixed model on {p.Images} images"));
        var split = Int8Build.Split(context.Workspace);
        using var validation = split is null ? null : context.Data.Train.Subset(split.Indices);
        var (fp32Graph, equalized) = Int8Build.Fp32Graph(context);
        var trained = Int8Build.TrainedWeights(context.Workspace);
        try
        {
            var qconfig = QConfigFactory.FromOptions(options);
            QuantizedGraph Build(IReadOnlyList<string> floatLayers) => Int8Build.Build(
                fp32Graph, qconfig, [.. options.KeepFloat, .. floatLayers], calibration, trained, Batches, options.BiasCorrection, progress,
                context.CancellationToken);
            var decisions = new List<StageArtifact>();
            using var quantized = Build([]);
            // Before saving: the report compares the int8 layers with the FP32 weights the graph still holds.
            // The report's top-1 gains need labels (a generic job's ranks layers by their own SQNR) and cost one run of the
            // split per layer, so they are measured only when the job asks for a split (sensitivityImages, a budget, `auto`;
            // the request's options: `options` holds auto's winner): the split QAT holds out for itself does not ask for them.
            var reportImages = generic || context.Request.Quantization.ValidationImages is null ? null : validation;
            var layers = LayerSensitivityAnalysis.Analyze(quantized, Batches(), reportImages, options.CalibrationBatchSize, context.CancellationToken);
            context.Workspace.Delete(JobWorkspace.AccuracyBudget);
            context.Workspace.Delete(JobWorkspace.FidelityBudget);
            IReadOnlyList<string>? budgetLayers = null;
            if (options.MaxAccuracyDrop is { } maxDrop)
            {
                context.Report(0, $"accuracy budget {maxDrop} pt: leaving layers in FP32 by sensitivity on {split!.Describe()}");
                // A budget always has a split (ValidationImages).
                var fp32 = AccuracyEvaluator.Measure(model.Forward, validation!, batchSize: options.CalibrationBatchSize, cancellationToken: context.CancellationToken).Accuracy;
                double AccuracyWithFloatLayers(IReadOnlyList<string> floatLayers)
                {
                    using var mixed = floatLayers.Count == 0 ? null : Build(floatLayers);
                    return DeliveredAccuracy.Measure(mixed ?? quantized, validation!, options.CalibrationBatchSize, context.CancellationToken);
                }
                var budget = AccuracyBudgetSearch.Search(fp32, layers, AccuracyWithFloatLayers, maxDrop, split.Count, context.CancellationToken);
                context.Workspace.Write(JobWorkspace.AccuracyBudget, path => File.WriteAllText(path, budget.ToJson()));
                decisions.Add(context.Workspace.Artifact(JobWorkspace.AccuracyBudget, "application/json"));
                budgetLayers = budget.FloatLayers;
            }
            if (generic && options.HasFidelityBudget)
            {
                context.Report(0, $"fidelity target: leaving layers in FP32 by sensitivity on {split!.Describe()}");
                // Fidelity to the FP32 outputs of the split's images (at most Fp32Outputs.MaxElements values), computed here once and not stored.
                using var fidelityImages = validation!.Take(Fp32Outputs.Within(validation.Count, model.Outputs));
                using var fidelityReference = FidelityEvaluator.Outputs(model.Forward, fidelityImages, options.CalibrationBatchSize, context.CancellationToken);
                OutputFidelity FidelityWithFloatLayers(IReadOnlyList<string> floatLayers)
                {
                    using var mixed = floatLayers.Count == 0 ? null : Build(floatLayers);
                    return DeliveredFidelity.Measure(
                        mixed ?? quantized, fidelityImages, fidelityReference, model.Outputs, context.ClassAxis, options.CalibrationBatchSize, context.CancellationToken);
                }
                var budget = FidelityBudgetSearch.Search(
                    layers, FidelityWithFloatLayers, options.MinSqnrDb, options.MinAgreement, fidelityImages.Count, context.CancellationToken);
                context.Workspace.Write(JobWorkspace.FidelityBudget, path => File.WriteAllText(path, budget.ToJson()));
                decisions.Add(context.Workspace.Artifact(JobWorkspace.FidelityBudget, "application/json"));
                budgetLayers = budget.FloatLayers;
            }
            context.Workspace.Delete(JobWorkspace.Int8AllLayersSafeTensors);
            if (budgetLayers is { Count: > 0 })
            {
                // The all-int8 model stays beside the delivered one, which is measured against it for the latency the kept layers cost.
                context.Workspace.Write(JobWorkspace.Int8AllLayersSafeTensors, path => Int8SafeTensorsCheckpoint.Save(quantized, context.Descriptor, path));
                // The delivered model is a keepFloat one: a kept layer's output is observed only where an int8 kernel reads it.
                using var mixed = Build(budgetLayers);
                context.Workspace.Write(JobWorkspace.Int8SafeTensors, path => Int8SafeTensorsCheckpoint.Save(mixed, context.Descriptor, path));
            }
            else
            {
                context.Workspace.Write(JobWorkspace.Int8SafeTensors, path => Int8SafeTensorsCheckpoint.Save(quantized, context.Descriptor, path));
            }
            var spread = options.CalibrationSpreadSeeds > 0
                ? MeasureCalibrationSpread(context, options, fp32Graph, quantized, trained, validation, split)
                : null;
            return (layers, decisions, spread);
        }
        finally
        {
            Int8Build.Dispose(trained);
            equalized?.Dispose();
        }
    }

    /// <summary>
    /// Issue 24's "how much the calibration sample moves int8 top-1", for this model: the all-int8 model built from the job's
    /// sample (<paramref name="quantized"/>) and from samples drawn with the next seeds (same sampling, size, observer, QAT
    /// weights and bias correction), each scored where the job decides (the validation split, else the evaluation images).
    /// </summary>
    private static MeasuredCalibrationSpread MeasureCalibrationSpread(
        StageContext context, QuantizationOptions options, ModelGraph fp32Graph, QuantizedGraph quantized,
        IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)>? trained, ImageDataset? validation, ValidationSplit? split)
    {
        var model = context.OpenFp32();
        var generic = context.IsGeneric;
        var (batchSize, cancellationToken) = (options.CalibrationBatchSize, context.CancellationToken);
        // A generic job's split is compared with its own FP32 outputs, computed here once (at most Fp32Outputs.MaxElements values).
        using var fidelityImages = generic && validation is not null ? validation.Take(Fp32Outputs.Within(validation.Count, model.Outputs)) : null;
        using var fidelityReference = fidelityImages is null ? null : FidelityEvaluator.Outputs(model.Forward, fidelityImages, batchSize, cancellationToken);
        var metric = generic ? MeasuredCalibrationSpread.SqnrDb : MeasuredCalibrationSpread.Top1;
        var test = context.Data.Test.Count;
        var images = fidelityImages?.Count ?? validation?.Count
            ?? (generic ? Fp32Outputs.ImageCount(context) : Math.Min(context.Request.Evaluation.TestSubset ?? test, test));
        var described = validation is null ? $"the first {images} test images" : $"{images} validation images (training split, seed {split!.Seed})";
        // Scored as the converted row and the budget score: LibTorch's int8 kernels under the engine Convert picks.
        double Score(QuantizedGraph candidate)
        {
            if (validation is not null)
            {
                return generic
                    ? DeliveredFidelity.Measure(candidate, fidelityImages!, fidelityReference!, model.Outputs, context.ClassAxis, batchSize, cancellationToken).SqnrDb
                    : 100 * DeliveredAccuracy.Measure(candidate, validation, batchSize, cancellationToken);
            }
            using var lowered = TorchScriptInt8Model.Build(candidate, QuantizedEngine.For(candidate.Graph));
            return generic
                ? FidelityEvaluator.Worst(Fp32Outputs.Measure(context, lowered.Run)).SqnrDb
                : 100 * AccuracyEvaluator.Measure(lowered.Run, context.Data.Test, context.Request.Evaluation.TestSubset, cancellationToken: cancellationToken).Accuracy;
        }
        var extra = options.CalibrationSpreadSeeds - 1;
        context.Report(0, $"calibration spread: scoring the all-int8 model of calibration seed {options.CalibrationSeed} on {described}");
        var values = new List<CalibrationSeedScore> { new(options.CalibrationSeed, Score(quantized)) };
        var qconfig = QConfigFactory.FromOptions(options);
        var datasetSha256 = context.DatasetSha256();
        for (var k = 1; k <= extra; k++)
        {
            // The next seeds, wrapping past int.MaxValue.
            var seed = (int)(((long)options.CalibrationSeed + k) % ((long)int.MaxValue + 1));
            var sample = CalibrationSample.Draw(context.Data.Train, options.CalibrationImages, options.CalibrationSampling, seed, datasetSha256);
            using var calibration = context.Data.Train.Subset(sample.Indices);
            IEnumerable<Tensor> Batches() => calibration.Batches(batchSize).Select(b => b.Images);
            var progress = new SynchronousProgress<CalibrationProgress>(p =>
                context.Report(0, $"calibration spread: seed {seed} ({k}/{extra}), calibrated on {p.Images} of {sample.Count} images"));
            var calibrated = CalibrateStage.Calibrate(fp32Graph, qconfig, options.KeepFloat, Batches(), options.ActivationObserver, progress, cancellationToken);
            using var rebuilt = Int8Build.Build(fp32Graph, qconfig, options.KeepFloat, calibrated, trained, Batches, options.BiasCorrection, progress, cancellationToken);
            context.Report(0, $"calibration spread: seed {seed} ({k}/{extra}), scoring on {described}");
            values.Add(new(seed, Score(rebuilt)));
        }
        var spread = MeasuredCalibrationSpread.From(metric, images, described, values);
        context.Report(0, spread.Describe());
        return spread;
    }

    public const string AccuracyMetric = "accuracy";
    public const string ImagesScoredMetric = "images_scored";

    /// <summary>
    /// What calibrate chose for this model (the <c>auto</c> observer's winner, the budget's FP32 layers) and, when it
    /// decided on the validation split, the drop on the test images beside the split's; a calibration sample that misses
    /// classes is warned about. In words; null when nothing.
    /// </summary>
    private static string? Note(JobWorkspace workspace, CalibrationSample? sample, StageMetrics int8, MeasuredCalibrationSpread? spread)
    {
        string? Read(string file, Func<string, string> describe) => workspace.Has(file) ? describe(File.ReadAllText(workspace.PathOf(file))) : null;
        var notes = new[]
        {
            sample?.Warning,
            Read(JobWorkspace.CrossLayerEqualization, json => CrossLayerEqualizationResult.FromJson(json).Describe()),
            Read(JobWorkspace.ObserverSelection, json => ActivationObserverSelection.FromJson(json).Describe()),
            Read(JobWorkspace.AccuracyBudget, json => AccuracyBudgetOutcome.FromJson(json) is var budget && !budget.WithinBudget && !workspace.Has(JobWorkspace.Qat)
                ? budget.Describe() + " (quantization-aware fine-tuning, qat.enabled or qat.auto, may recover the rest)"
                : budget.Describe()),
            Read(JobWorkspace.Qat, json => QatOutcome.FromJson(json).Describe()),
            Read(JobWorkspace.FidelityBudget, json => FidelityBudgetOutcome.FromJson(json).Describe()),
            workspace.Has(JobWorkspace.ValidationSplit) ? Read(JobWorkspace.Fp32TestAccuracy, json => TestDrop(json, int8)) : null,
            spread?.Describe(),
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
