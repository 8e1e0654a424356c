using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// PyTorch's PTQ up to, not including, <c>convert_pt2e</c>: prepare (BN folding, fusion, observers) and calibration on N
/// training images (N stratified by class by default). Its product is the observers' qparams
/// (<see cref="CalibratedActivations"/>, <c>calibrated-activations.json</c>), with the sample and the validation split
/// (<see cref="ValidationSplit"/>) it drew from the training images. The <c>auto</c> observer is chosen here: each candidate
/// calibrates, is converted in memory and scored on the validation split, and only the winner's qparams are kept. Building
/// the int8 graph, the per-layer report and the accuracy budget are the Convert stage's (after QAT when it runs).
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
            context.Workspace.Artifact(JobWorkspace.CalibratedActivations, "application/json"),
            context.Workspace.Artifact(JobWorkspace.CalibrationSample, "application/json"),
        };
        // What later stages built from an earlier calibration no longer holds.
        context.Workspace.Delete(JobWorkspace.QatWeights);
        context.Workspace.Delete(JobWorkspace.Qat);
        // Decisions are made on training images; the test set is only scored, by the stages that measure (ADR-009).
        context.Workspace.Delete(JobWorkspace.ValidationSplit);
        var split = options.ValidationImages is { } splitSize ? ValidationSplit.Draw(context.Data.Train, splitSize, options.CalibrationSeed, sample) : null;
        if (split is not null)
        {
            context.Workspace.Write(JobWorkspace.ValidationSplit, path => File.WriteAllText(path, JsonSerializer.Serialize(split, SampleJson)));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.ValidationSplit, "application/json"));
        }
        context.Workspace.Delete(JobWorkspace.CrossLayerEqualization);
        // Every quantization below starts from the equalized weights; the FP32 row stays the user's model (ADR-013).
        using var equalized = options.CrossLayerEqualization ? Equalize(context, model.Graph, artifacts) : null;
        var fp32Graph = equalized ?? model.Graph;
        context.Workspace.Delete(JobWorkspace.ObserverSelection);
        CalibratedActivations calibrated;
        if (options.ActivationObserver == ActivationObserverNames.Auto)
        {
            context.Report(0, $"observer auto: trying {string.Join(", ", ActivationObserverNames.AutoCandidates)} on {split!.Describe()}");
            using var validation = context.Data.Train.Subset(split.Indices);
            // A generic job decides on fidelity to the FP32 outputs of the split's images (at most Fp32Outputs.MaxElements values),
            // computed here once and not stored.
            using var fidelityImages = generic ? validation.Take(Fp32Outputs.Within(validation.Count, model.Outputs)) : null;
            using var fidelityReference = fidelityImages is null ? null
                : FidelityEvaluator.Outputs(model.Forward, fidelityImages, options.CalibrationBatchSize, context.CancellationToken);
            var candidates = new Dictionary<string, CalibratedActivations>();
            QuantizedGraph Candidate(string observer)
            {
                var qconfig = QConfigFactory.FromOptions(options with { ActivationObserver = observer });
                candidates[observer] = Calibrate(fp32Graph, qconfig, options.KeepFloat, Batches(), observer, progress, context.CancellationToken);
                // Converted in memory only, to be scored as the Convert stage will build it.
                return Int8Build.Build(fp32Graph, qconfig, options.KeepFloat, candidates[observer], null, Batches, options.BiasCorrection, progress, context.CancellationToken);
            }
            var (selection, winner) = ActivationObserverSelection.Select(
                ActivationObserverNames.AutoCandidates,
                Candidate,
                candidate => generic
                    ? DeliveredFidelity.Measure(candidate, fidelityImages!, fidelityReference!, model.Outputs, context.ClassAxis, options.CalibrationBatchSize,
                        context.CancellationToken).SqnrDb
                    : DeliveredAccuracy.Measure(candidate, validation, options.CalibrationBatchSize, context.CancellationToken),
                generic ? fidelityImages!.Count : split.Count,
                generic ? ActivationObserverSelection.SqnrDb : ActivationObserverSelection.Top1);
            winner.Dispose();
            context.Workspace.Write(JobWorkspace.ObserverSelection, path => File.WriteAllText(path, selection.ToJson()));
            artifacts.Add(context.Workspace.Artifact(JobWorkspace.ObserverSelection, "application/json"));
            calibrated = candidates[selection.Winner];
        }
        else
        {
            calibrated = Calibrate(fp32Graph, QConfigFactory.FromOptions(options), options.KeepFloat, Batches(), options.ActivationObserver, progress,
                context.CancellationToken);
        }
        context.Workspace.Write(JobWorkspace.CalibratedActivations, path => File.WriteAllText(path, calibrated.ToJson()));
        return new StageProducts([], artifacts, Calibration: sample);
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

    /// <summary>Prepare and calibration, PyTorch's <c>prepare_pt2e</c> and the calibration loop: the observers' qparams, nothing converted.</summary>
    public static CalibratedActivations Calibrate(
        ModelGraph captured, QConfig qconfig, IReadOnlyCollection<string>? keepFloat, IEnumerable<Tensor> batches, string observer,
        IProgress<CalibrationProgress> progress, CancellationToken cancellationToken)
    {
        using var prepared = QuantizePt2e.Prepare(captured, qconfig, keepFloat);
        QuantizePt2e.Calibrate(prepared, batches, progress, cancellationToken);
        return CalibratedActivations.From(prepared, observer);
    }
}
