using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// Quantization-aware fine-tuning from the calibrated state (<see cref="QuantizationAwareTraining"/>): the all-int8 model is
/// built in memory from calibrate's activation qparams, its BN-folded float weights are trained on the training images
/// outside the validation split, and the trained weights (<c>qat-weights.safetensors</c>) are this stage's product, which
/// Convert quantizes. The validation split is measured before and after, on the delivered kernels. With <c>qat.auto</c>
/// (and not <c>qat.enabled</c>) it fine-tunes only when the all-int8 PTQ model misses the accuracy budget on the split.
/// Fine-tuned weights that score below PTQ on the split are not written: Convert then delivers the PTQ model.
/// The budget's search (which layers to leave in FP32) runs after, in Convert, on the fine-tuned model.
/// </summary>
internal static class QatStage
{
    public static StageProducts Run(StageContext context)
    {
        var options = context.Request.Qat ?? throw new InvalidOperationException("The Qat stage runs only when the job enables it.");
        var calibration = Int8Build.Calibration(context.Workspace);
        var quantization = Int8Build.Options(context, calibration);
        var model = context.OpenFp32();
        var sample = Int8Build.Sample(context.Workspace);
        context.Workspace.Delete(JobWorkspace.QatWeights);
        context.Workspace.Delete(JobWorkspace.Qat);
        if (Int8Build.Split(context.Workspace) is null)
        {
            // Calibrate needed none; QAT holds one out all the same, so its gain is measured on images it did not train on.
            var drawn = ValidationSplit.Draw(context.Data.Train, QuantizationOptions.DefaultValidationImages, quantization.CalibrationSeed, sample);
            context.Workspace.Write(JobWorkspace.ValidationSplit, path => File.WriteAllText(path, JsonSerializer.Serialize(drawn, CalibrateStage.SampleJson)));
        }
        var split = Int8Build.Split(context.Workspace)!;
        using var validation = context.Data.Train.Subset(split.Indices);
        var held = split.Indices.ToHashSet();
        using var train = context.Data.Train.Subset(Enumerable.Range(0, context.Data.Train.Count).Select(i => (long)i).Where(i => !held.Contains(i)).ToArray());
        using var calibrationImages = context.Data.Train.Subset(sample.Indices);
        IEnumerable<Tensor> Batches() => calibrationImages.Batches(quantization.CalibrationBatchSize).Select(b => b.Images);
        var qconfig = QConfigFactory.FromOptions(quantization);
        var (fp32Graph, equalized) = Int8Build.Fp32Graph(context);
        using (equalized)
        {
            using var quantized = Int8Build.Build(
                fp32Graph, qconfig, quantization.KeepFloat, calibration, null, Batches, quantization.BiasCorrection, null, context.CancellationToken);
            var batchSize = quantization.CalibrationBatchSize;
            var fp32 = Accuracy(model.Forward, validation, batchSize, context.CancellationToken);
            var before = DeliveredAccuracy.Measure(quantized, validation, batchSize, context.CancellationToken);
            var budget = quantization.MaxAccuracyDrop;
            var automatic = !options.Enabled;
            var artifacts = new List<StageArtifact>
            {
                context.Workspace.Artifact(JobWorkspace.Qat, "application/json"), context.Workspace.Artifact(JobWorkspace.ValidationSplit, "application/json"),
            };
            QatOutcome outcome;
            if (automatic && budget is { } maxDrop && 100 * (fp32 - before) <= maxDrop)
            {
                outcome = new QatOutcome("int8 model", 0, options.LearningRate, options.Distillation, 0, [], fp32, before, before, split.Count, budget,
                    Automatic: true, FineTuned: false);
            }
            else
            {
                var floatWeights = Int8Build.FoldedFloatWeights(fp32Graph);
                QatResult? result = null;
                try
                {
                    var progress = new SynchronousProgress<QatProgress>(p =>
                        context.Report(p.Fraction, $"epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.BatchesPerEpoch}, loss {p.Loss:F4}"));
                    result = QuantizationAwareTraining.FineTune(
                        quantized, floatWeights, qconfig, train, options.Distillation ? model.Forward : null, options, progress, context.CancellationToken);
                    var after = DeliveredAccuracy.Measure(quantized, validation, batchSize, context.CancellationToken);
                    outcome = new QatOutcome("int8 model", options.Epochs, options.LearningRate, options.Distillation, result.Images,
                        [.. result.Epochs.Select(e => e.MeanLoss)], fp32, before, after, split.Count, budget, automatic);
                    if (outcome.DeliversFineTunedWeights)
                    {
                        context.Workspace.Write(JobWorkspace.QatWeights, path => Int8Build.SaveTrainedWeights(result.Weights, path));
                        artifacts.Add(context.Workspace.Artifact(JobWorkspace.QatWeights));
                    }
                }
                finally
                {
                    Int8Build.Dispose(floatWeights);
                    Int8Build.Dispose(result?.Weights);
                }
            }
            context.Workspace.Write(JobWorkspace.Qat, path => File.WriteAllText(path, outcome.ToJson()));
            context.Report(1, outcome.Describe());
            return new StageProducts([], artifacts);
        }
    }

    private static double Accuracy(Func<Tensor, Tensor> forward, ImageDataset images, int batchSize, CancellationToken cancellationToken) =>
        Evaluation.AccuracyEvaluator.Measure(forward, images, batchSize: batchSize, cancellationToken: cancellationToken).Accuracy;
}

/// <summary>What fine-tuning did, on the validation split of the training images (qat.json and the converted row's note).</summary>
/// <param name="Budget">The job's accuracy budget in points, when it has one: Convert's search runs on the fine-tuned model.</param>
/// <param name="Automatic">Run by <c>qat.auto</c>: because the all-int8 PTQ model missed the budget (or, not fine-tuned, because it met it).</param>
/// <param name="FineTuned">False when <c>qat.auto</c> found the budget met without fine-tuning.</param>
public sealed record QatOutcome(
    string Model,
    int Epochs,
    double LearningRate,
    bool Distillation,
    int TrainingImages,
    IReadOnlyList<double> EpochLosses,
    double Fp32Accuracy,
    double AccuracyBefore,
    double AccuracyAfter,
    int ValidationImages = 0,
    double? Budget = null,
    bool Automatic = false,
    bool FineTuned = true)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Top-1 points fine-tuning gained on the validation split.</summary>
    public double Gain => 100 * (AccuracyAfter - AccuracyBefore);

    /// <summary>
    /// Whether Convert quantizes the fine-tuned weights: fine-tuning ran and did not lower the validation split's top-1
    /// below PTQ's. Otherwise the PTQ model is delivered (no <c>qat-weights.safetensors</c>): QAT must not cost accuracy
    /// where PTQ lost none (ADR-021; mobilenet_v2-cifar at lr 0.001, docs/BENCHMARKS.md).
    /// </summary>
    public bool DeliversFineTunedWeights => FineTuned && AccuracyAfter >= AccuracyBefore;

    public string Describe()
    {
        var invariant = CultureInfo.InvariantCulture;
        var ptqDrop = 100 * (Fp32Accuracy - AccuracyBefore);
        if (!FineTuned)
        {
            return string.Format(invariant, "QAT not needed (qat.auto): every layer int8 after PTQ drops {0:F2} pt on {1} validation images, within the {2} pt budget",
                ptqDrop, ValidationImages, Budget);
        }
        var source = Distillation ? "distilled from FP32" : "labels";
        var why = Automatic ? string.Format(invariant, " (qat.auto: every layer int8 after PTQ dropped {0:F2} pt, over the {1} pt budget)", ptqDrop, Budget) : "";
        var kept = DeliversFineTunedWeights ? "" : "; below PTQ, so the PTQ weights are delivered";
        return string.Format(invariant, "QAT{0} ({1} epoch(s), {2} training images, {3}) on the {4}: {5:F2} -> {6:F2} % on {7} validation images (FP32 {8:F2} %, gain {9:+0.00;-0.00} pt){10}",
            why, Epochs, TrainingImages, source, Model, 100 * AccuracyBefore, 100 * AccuracyAfter, ValidationImages, 100 * Fp32Accuracy, Gain, kept);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static QatOutcome FromJson(string json) =>
        JsonSerializer.Deserialize<QatOutcome>(json, Json) ?? throw new JsonException("The QAT file is empty.");
}
