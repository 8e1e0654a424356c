using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// Quantization-aware fine-tuning of the calibrated model (<see cref="QuantizationAwareTraining"/>), before Convert
/// lowers it to the int8 kernels. It trains on the training images outside the validation split and measures the
/// validation split before and after, on the delivered kernels. When an accuracy budget kept layers in FP32, the
/// all-int8 model is fine-tuned first and delivered if it now meets the budget; otherwise the mixed model is fine-tuned.
/// </summary>
internal static class QatStage
{
    public static StageProducts Run(StageContext context)
    {
        var options = context.Request.Qat ?? throw new InvalidOperationException("The Qat stage runs only when the job enables it.");
        var quantization = context.Request.Quantization;
        var model = context.OpenFp32();
        var sample = CalibrateStage.RecordedSample(context.Workspace)
            ?? throw new PipelineInputException("The calibrate stage left no calibration sample; run the job again from calibrate.");
        if (!context.Workspace.Has(JobWorkspace.ValidationSplit))
        {
            // Calibrate needed none; QAT holds one out all the same, so its gain is measured on images it did not train on.
            var drawn = ValidationSplit.Draw(context.Data.Train, QuantizationOptions.DefaultValidationImages, quantization.CalibrationSeed, sample);
            context.Workspace.Write(JobWorkspace.ValidationSplit, path => File.WriteAllText(path, JsonSerializer.Serialize(drawn, CalibrateStage.SampleJson)));
        }
        var split = JsonSerializer.Deserialize<ValidationSplit>(File.ReadAllText(context.Workspace.PathOf(JobWorkspace.ValidationSplit)), CalibrateStage.SampleJson)!;
        using var validation = context.Data.Train.Subset(split.Indices);
        var held = split.Indices.ToHashSet();
        using var train = context.Data.Train.Subset(Enumerable.Range(0, context.Data.Train.Count).Select(i => (long)i).Where(i => !held.Contains(i)).ToArray());
        var observer = ObserverSelection(context) ?? quantization.ActivationObserver;
        var qconfig = QConfigFactory.FromOptions(quantization with { ActivationObserver = observer });
        var floatWeights = FoldedFloatWeights(model.Graph, quantization.CrossLayerEqualization);
        try
        {
            var fp32 = Accuracy(model.Forward, validation, quantization.CalibrationBatchSize, context.CancellationToken);
            var budget = context.Workspace.Has(JobWorkspace.AccuracyBudget)
                ? AccuracyBudgetOutcome.FromJson(File.ReadAllText(context.Workspace.PathOf(JobWorkspace.AccuracyBudget)))
                : null;
            QatOutcome? outcome = null;
            if (budget is { FloatLayers.Count: > 0 } && context.Workspace.Has(JobWorkspace.Int8AllLayersSafeTensors))
            {
                outcome = FineTune(context, JobWorkspace.Int8AllLayersSafeTensors, floatWeights, qconfig, train, validation, fp32, options, "all-int8 model");
                if (100 * (fp32 - outcome.AccuracyAfter) <= budget.MaxAccuracyDrop)
                {
                    // Every layer int8 now meets the budget: that model is delivered, and there is no mixed one to time against it.
                    File.Copy(context.Workspace.PathOf(JobWorkspace.Int8AllLayersSafeTensors), context.Workspace.PathOf(JobWorkspace.Int8SafeTensors), overwrite: true);
                    context.Workspace.Delete(JobWorkspace.Int8AllLayersSafeTensors);
                    outcome = outcome with { Delivered = "the all-int8 model, which now meets the accuracy budget" };
                }
                else
                {
                    outcome = FineTune(context, JobWorkspace.Int8SafeTensors, floatWeights, qconfig, train, validation, fp32, options,
                        "the budget's mixed model") with { AllInt8AccuracyAfter = outcome.AccuracyAfter };
                }
            }
            outcome ??= FineTune(context, JobWorkspace.Int8SafeTensors, floatWeights, qconfig, train, validation, fp32, options, "int8 model");
            outcome = outcome with { ValidationImages = split.Count, Budget = budget?.MaxAccuracyDrop };
            context.Workspace.Write(JobWorkspace.Qat, path => File.WriteAllText(path, outcome.ToJson()));
            context.Report(1, outcome.Describe());
            return new StageProducts([],
            [
                context.Workspace.Artifact(JobWorkspace.Int8SafeTensors), context.Workspace.Artifact(JobWorkspace.Qat, "application/json"),
                context.Workspace.Artifact(JobWorkspace.ValidationSplit, "application/json"),
            ]);
        }
        finally
        {
            foreach (var (weight, bias) in floatWeights.Values)
            {
                weight.Dispose();
                bias?.Dispose();
            }
        }
    }

    private static QatOutcome FineTune(
        StageContext context, string file, IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)> floatWeights, QConfig qconfig,
        ImageDataset train, ImageDataset validation, double fp32, QatOptions options, string what)
    {
        var path = context.Workspace.PathOf(file);
        var (quantized, descriptor) = Int8SafeTensorsCheckpoint.Load(path, context.OnnxModelPath);
        using (quantized)
        {
            var batchSize = context.Request.Quantization.CalibrationBatchSize;
            var before = DeliveredAccuracy.Measure(quantized, validation, batchSize, context.CancellationToken);
            var progress = new SynchronousProgress<QatProgress>(p =>
                context.Report(p.Fraction, $"{what}: epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.BatchesPerEpoch}, loss {p.Loss:F4}"));
            var result = QuantizationAwareTraining.FineTune(
                quantized, floatWeights, qconfig, train, options.Distillation ? context.OpenFp32().Forward : null, options, progress, context.CancellationToken);
            var after = DeliveredAccuracy.Measure(quantized, validation, batchSize, context.CancellationToken);
            context.Workspace.Write(file, target => Int8SafeTensorsCheckpoint.Save(quantized, descriptor, target));
            return new QatOutcome(what, options.Epochs, options.LearningRate, options.Distillation, result.Images,
                [.. result.Epochs.Select(e => e.MeanLoss)], fp32, before, after);
        }
    }

    /// <summary>The observer calibrate used: <c>auto</c>'s winner when it chose one.</summary>
    private static string? ObserverSelection(StageContext context) =>
        context.Workspace.Has(JobWorkspace.ObserverSelection)
            ? ActivationObserverSelection.FromJson(File.ReadAllText(context.Workspace.PathOf(JobWorkspace.ObserverSelection))).Winner
            : null;

    /// <summary>
    /// Each conv / linear layer's weight and bias as calibration quantized them: BN folded into the FP32 weights (and
    /// cross-layer equalized when the job asks), by layer name. The int8 checkpoint holds only the rounded weights.
    /// </summary>
    private static Dictionary<string, (Tensor Weight, Tensor? Bias)> FoldedFloatWeights(ModelGraph fp32, bool equalize)
    {
        var (equalized, _) = equalize ? CrossLayerEqualization.Apply(fp32) : (null, null!);
        using (equalized)
        {
            // Folding is what prepare does to the weights; fusing ReLUs and creating observers would change none of them.
            using var folded = GraphFusion.FoldBatchNorm(equalized ?? fp32);
            var weights = new Dictionary<string, (Tensor Weight, Tensor? Bias)>();
            foreach (var node in folded.Nodes)
            {
                if (node is Conv2dNode conv)
                {
                    weights[conv.Name] = (conv.Weight.detach().clone(), conv.Bias?.detach().clone());
                }
                else if (node is LinearNode linear)
                {
                    weights[linear.Name] = (linear.Weight.detach().clone(), linear.Bias?.detach().clone());
                }
            }
            return weights;
        }
    }

    private static double Accuracy(Func<Tensor, Tensor> forward, ImageDataset images, int batchSize, CancellationToken cancellationToken) =>
        Evaluation.AccuracyEvaluator.Measure(forward, images, batchSize: batchSize, cancellationToken: cancellationToken).Accuracy;
}

/// <summary>What fine-tuning did, on the validation split of the training images (qat.json and the stage's note).</summary>
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
    double? AllInt8AccuracyAfter = null,
    string? Delivered = null)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Top-1 points fine-tuning gained on the validation split.</summary>
    public double Gain => 100 * (AccuracyAfter - AccuracyBefore);

    public string Describe()
    {
        var invariant = CultureInfo.InvariantCulture;
        var source = Distillation ? "distilled from FP32" : "labels";
        var text = string.Format(invariant, "QAT ({0} epoch(s), {1} training images, {2}) on the {3}: {4:F2} -> {5:F2} % on {6} validation images (FP32 {7:F2} %, gain {8:+0.00;-0.00} pt)",
            Epochs, TrainingImages, source, Model, 100 * AccuracyBefore, 100 * AccuracyAfter, ValidationImages, 100 * Fp32Accuracy, Gain);
        if (AllInt8AccuracyAfter is { } allInt8)
        {
            text += string.Format(invariant, "; the all-int8 model reached {0:F2} %, short of the budget", 100 * allInt8);
        }
        return Delivered is { } delivered ? $"{text}; delivered: {delivered}" : text;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static QatOutcome FromJson(string json) =>
        JsonSerializer.Deserialize<QatOutcome>(json, Json) ?? throw new JsonException("The QAT file is empty.");
}
