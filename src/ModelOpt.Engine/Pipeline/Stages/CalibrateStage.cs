using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// The whole of PyTorch's PTQ, in its three calls: prepare (BN folding, fusion, observers), calibration on N training
/// images (N stratified by class by default), and PyTorch's <c>convert_pt2e</c> (<c>QuantizePt2e.Convert</c>, in
/// <c>Quantization/Convert/</c>: int8 weights and qparams in a <c>QuantizedGraph</c>). The converted graph is persisted as
/// the plain int8 safetensors form. The pipeline stage named Convert, after this one, does not quantize: it lowers that
/// graph to LibTorch's int8 kernels (<c>Runtime/TorchScript/</c>) and measures it. The per-layer sensitivity report is measured here,
/// while the FP32 weights are at hand, and so are the <c>auto</c> observer's choice and the accuracy budget's search
/// (which layers to leave in FP32), all three on a validation split of the training images (<see cref="ValidationSplit"/>).
/// </summary>
internal static class CalibrateStage
{
    public static readonly JsonSerializerOptions SampleJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The sample the calibrate stage recorded in the workspace, or null when it ran before samples were recorded.</summary>
    public static CalibrationSample? RecordedSample(JobWorkspace workspace) =>
        workspace.Has(JobWorkspace.CalibrationSample)
            ? JsonSerializer.Deserialize<CalibrationSample>(File.ReadAllText(workspace.PathOf(JobWorkspace.CalibrationSample)), SampleJson)
            : null;

    public static StageProducts Run(StageContext context)
    {
        var options = context.Request.Quantization;
        // The job's memory owns the FP32 model (the next stages reuse it): not disposed here.
        var model = context.OpenFp32();
        var generic = context.IsGeneric;
        var sample = CalibrationSample.Draw(
            context.Data.Train, options.CalibrationImages, options.CalibrationSampling, options.CalibrationSeed, context.DatasetSha256());
        context.Workspace.Write(JobWorkspace.CalibrationSample, path => File.WriteAllText(path, JsonSerializer.Serialize(sample, SampleJson)));
        using var calibration = context.Data.Train.Subset(sample.Indices);
        IEnumerable<Tensor> Batches() => calibration.Batches(options.CalibrationBatchSize).Select(b => b.Images);
        var batches = calibration.BatchCount(options.CalibrationBatchSize);
        var progress = new SynchronousProgress<CalibrationProgress>(p =>
            context.Report((double)p.BatchesDone / batches, $"calibrated on {p.Images} images ({p.BatchesDone}/{batches} batches)"));
        if (sample.Warning is { } warning)
        {
            context.Report(0, warning);
        }
        var artifacts = new List<StageArtifact>
        {
            context.Workspace.Artifact(JobWorkspace.Int8SafeTensors), context.Workspace.Artifact(JobWorkspace.CalibrationSample, "application/json"),
        };
        // Decisions are made on training images; the test set is only scored, by the stages that measure (ADR-009).
        context.Workspace.Delete(JobWorkspace.ValidationSplit);
        var split = options.ValidationImages is { } splitSize ? ValidationSplit.Draw(context.Data.Train, splitSize, options.CalibrationSeed, sample) : null;
        if (split is not null)
        {
            context.Workspace.Write(JobWorkspace.ValidationSplit, path => File.WriteAllText(path, JsonSerializer.Serialize(split, SampleJson)));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.ValidationSplit, "application/json"));
        }
        using var validation = split is null ? null : context.Data.Train.Subset(split.Indices);
        // A generic job's auto observer and target decide on fidelity to the FP32 outputs of the split's images (at most
        // Fp32Outputs.MaxElements values), computed here once and not stored.
        var decidesOnFidelity = generic && validation is not null && (options.ActivationObserver == ActivationObserverNames.Auto || options.HasFidelityBudget);
        using var fidelityImages = decidesOnFidelity ? validation!.Take(Fp32Outputs.Within(validation.Count, model.OutputShape)) : null;
        using var fidelityReference = fidelityImages is null ? null
            : FidelityEvaluator.Outputs(model.Forward, fidelityImages, options.CalibrationBatchSize, context.CancellationToken);
        OutputFidelity FidelityOf(QuantizedGraph candidate) => DeliveredFidelity.Measure(
            candidate, fidelityImages!, fidelityReference!, model.OutputName, context.ClassAxis, options.CalibrationBatchSize, context.CancellationToken);
        context.Workspace.Delete(JobWorkspace.CrossLayerEqualization);
        // Every quantization below starts from the equalized weights; the FP32 row stays the user's model (ADR-013).
        using var equalized = options.CrossLayerEqualization ? Equalize(context, model.Graph, artifacts) : null;
        var fp32Graph = equalized ?? model.Graph;
        context.Workspace.Delete(JobWorkspace.ObserverSelection);
        QuantizedGraph? autoWinner = null;
        if (options.ActivationObserver == ActivationObserverNames.Auto)
        {
            context.Report(0, $"observer auto: trying {string.Join(", ", ActivationObserverNames.AutoCandidates)} on {split!.Describe()}");
            (var selection, autoWinner) = ActivationObserverSelection.Select(
                ActivationObserverNames.AutoCandidates,
                observer => Quantize(fp32Graph, QConfigFactory.FromOptions(options with { ActivationObserver = observer }), options.KeepFloat, Batches(),
                    options.BiasCorrection, progress, context.CancellationToken),
                candidate => generic ? FidelityOf(candidate).SqnrDb : DeliveredAccuracy.Measure(candidate, validation!, options.CalibrationBatchSize, context.CancellationToken),
                generic ? fidelityImages!.Count : split.Count,
                generic ? ActivationObserverSelection.SqnrDb : ActivationObserverSelection.Top1);
            context.Workspace.Write(JobWorkspace.ObserverSelection, path => File.WriteAllText(path, selection.ToJson()));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.ObserverSelection, "application/json"));
            options = options with { ActivationObserver = selection.Winner };
        }
        var qconfig = QConfigFactory.FromOptions(options);
        // auto's winner is already calibrated and converted with these options.
        using var quantized = autoWinner ?? Quantize(fp32Graph, qconfig, options.KeepFloat, Batches(), options.BiasCorrection, progress, context.CancellationToken);
        // Before saving: the report compares the int8 layers with the FP32 weights the graph still holds.
        // The report's top-1 gains need labels: a generic job's ranks layers by their own SQNR.
        var layers = LayerSensitivityAnalysis.Analyze(quantized, Batches(), generic ? null : validation, options.CalibrationBatchSize, context.CancellationToken);
        context.Workspace.Delete(JobWorkspace.AccuracyBudget);
        context.Workspace.Delete(JobWorkspace.FidelityBudget);
        IReadOnlyList<string>? budgetLayers = null;
        if (options.MaxAccuracyDrop is { } maxDrop)
        {
            context.Report(1, $"accuracy budget {maxDrop} pt: leaving layers in FP32 by sensitivity on {split!.Describe()}");
            // A budget always has a split (ValidationImages).
            var images = validation!;
            var fp32 = AccuracyEvaluator.Measure(model.Forward, images, batchSize: options.CalibrationBatchSize, cancellationToken: context.CancellationToken).Accuracy;
            double AccuracyWithFloatLayers(IReadOnlyList<string> floatLayers)
            {
                if (floatLayers.Count == 0)
                {
                    return DeliveredAccuracy.Measure(quantized, images, options.CalibrationBatchSize, context.CancellationToken);
                }
                // Calibrated again as the delivered mixed model is, below.
                using var mixed = Quantize(fp32Graph, qconfig, [.. options.KeepFloat, .. floatLayers], Batches(), options.BiasCorrection, progress, context.CancellationToken);
                return DeliveredAccuracy.Measure(mixed, images, options.CalibrationBatchSize, context.CancellationToken);
            }
            var budget = AccuracyBudgetSearch.Search(fp32, layers, AccuracyWithFloatLayers, maxDrop, split.Count, context.CancellationToken);
            context.Workspace.Write(JobWorkspace.AccuracyBudget, path => File.WriteAllText(path, budget.ToJson()));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.AccuracyBudget, "application/json"));
            budgetLayers = budget.FloatLayers;
        }
        if (generic && options.HasFidelityBudget)
        {
            context.Report(1, $"fidelity target: leaving layers in FP32 by sensitivity on {split!.Describe()}");
            OutputFidelity FidelityWithFloatLayers(IReadOnlyList<string> floatLayers)
            {
                if (floatLayers.Count == 0)
                {
                    return FidelityOf(quantized);
                }
                // Calibrated again as the delivered mixed model is, below.
                using var mixed = Quantize(fp32Graph, qconfig, [.. options.KeepFloat, .. floatLayers], Batches(), options.BiasCorrection, progress, context.CancellationToken);
                return FidelityOf(mixed);
            }
            var budget = FidelityBudgetSearch.Search(
                layers, FidelityWithFloatLayers, options.MinSqnrDb, options.MinAgreement, fidelityImages!.Count, context.CancellationToken);
            context.Workspace.Write(JobWorkspace.FidelityBudget, path => File.WriteAllText(path, budget.ToJson()));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.FidelityBudget, "application/json"));
            budgetLayers = budget.FloatLayers;
        }
        context.Workspace.Delete(JobWorkspace.Int8AllLayersSafeTensors);
        if (budgetLayers is { Count: > 0 })
        {
            // The all-int8 model stays for convert, which measures what the kept layers cost in latency.
            context.Workspace.Write(JobWorkspace.Int8AllLayersSafeTensors, path => Int8SafeTensorsCheckpoint.Save(quantized, context.Descriptor, path));
            // The delivered model is a keepFloat one, calibrated again: a kept layer's output is observed only where an int8 kernel reads it.
            using var mixed = Quantize(fp32Graph, qconfig, [.. options.KeepFloat, .. budgetLayers], Batches(), options.BiasCorrection, progress, context.CancellationToken);
            context.Workspace.Write(JobWorkspace.Int8SafeTensors, path => Int8SafeTensorsCheckpoint.Save(mixed, context.Descriptor, path));
        }
        else
        {
            context.Workspace.Write(JobWorkspace.Int8SafeTensors, path => Int8SafeTensorsCheckpoint.Save(quantized, context.Descriptor, path));
        }
        return new StageProducts([], artifacts, layers, sample);
    }

    private static ModelGraph Equalize(StageContext context, ModelGraph captured, List<StageArtifact> artifacts)
    {
        var (graph, result) = CrossLayerEqualization.Apply(captured);
        try
        {
            // Scored on the FP32 row's images, so the two rows differ only by the ReLU6 -> ReLU replacement; a generic job has no top-1 to give.
            if (!context.IsGeneric)
            {
                var accuracy = AccuracyEvaluator.Measure(
                    x => GraphInterpreter.Run(graph, x), context.Data.Test, context.Request.Evaluation.TestSubset, cancellationToken: context.CancellationToken);
                result = result with { EqualizedFp32 = accuracy };
            }
            context.Workspace.Write(JobWorkspace.CrossLayerEqualization, path => File.WriteAllText(path, result.ToJson()));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.CrossLayerEqualization, "application/json"));
            context.Report(0, result.Describe());
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    private static QuantizedGraph Quantize(
        ModelGraph captured, QConfig qconfig, IReadOnlyCollection<string>? keepFloat, IEnumerable<Tensor> batches,
        bool biasCorrection, IProgress<CalibrationProgress> progress, CancellationToken cancellationToken)
    {
        using var prepared = QuantizePt2e.Prepare(captured, qconfig, keepFloat);
        QuantizePt2e.Calibrate(prepared, batches, progress, cancellationToken);
        var quantized = QuantizePt2e.Convert(prepared);
        try
        {
            if (biasCorrection)
            {
                foreach (var shift in FastBiasCorrection.Apply(quantized, batches, cancellationToken).Values)
                {
                    shift.Dispose();
                }
            }
            return quantized;
        }
        catch
        {
            quantized.Dispose();
            throw;
        }
    }
}
