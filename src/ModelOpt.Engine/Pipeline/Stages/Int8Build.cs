using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// What the Calibrate, Qat and Convert stages share: reading what calibrate persisted (its sample, validation split and
/// activation qparams), the FP32 graph every quantization starts from, and building an int8 graph from the calibrated
/// qparams (PyTorch's <c>convert_pt2e</c>), with the fine-tuned weights when the Qat stage wrote some.
/// </summary>
internal static class Int8Build
{
    /// <summary>The activation qparams calibrate persisted.</summary>
    /// <exception cref="PipelineInputException">Calibrate has not completed in this workspace.</exception>
    public static CalibratedActivations Calibration(JobWorkspace workspace) =>
        workspace.Has(JobWorkspace.CalibratedActivations)
            ? CalibratedActivations.FromJson(File.ReadAllText(workspace.PathOf(JobWorkspace.CalibratedActivations)))
            : throw new PipelineInputException("The calibrate stage left no calibrated activations; run the job again from calibrate.");

    /// <summary>The calibration sample calibrate recorded.</summary>
    /// <exception cref="PipelineInputException">Calibrate has not completed in this workspace.</exception>
    public static CalibrationSample Sample(JobWorkspace workspace) =>
        CalibrateStage.RecordedSample(workspace)
            ?? throw new PipelineInputException("The calibrate stage left no calibration sample; run the job again from calibrate.");

    /// <summary>The validation split calibrate (or the Qat stage) drew; null when the job needed none.</summary>
    public static ValidationSplit? Split(JobWorkspace workspace) =>
        workspace.Has(JobWorkspace.ValidationSplit)
            ? JsonSerializer.Deserialize<ValidationSplit>(File.ReadAllText(workspace.PathOf(JobWorkspace.ValidationSplit)), CalibrateStage.SampleJson)
            : null;

    /// <summary>The job's quantization options with the activation observer calibrate used (<c>auto</c>'s winner when it chose).</summary>
    public static QuantizationOptions Options(StageContext context, CalibratedActivations calibration) =>
        context.Request.Quantization with { ActivationObserver = calibration.Observer };

    /// <summary>
    /// The FP32 graph quantization starts from: cross-layer equalized when the job asks (deterministic, so each stage
    /// recomputes it; calibrate records what it did), otherwise the model's own graph (not to be disposed: the job's memory owns it).
    /// </summary>
    public static (ModelGraph Graph, ModelGraph? Owned) Fp32Graph(StageContext context)
    {
        var captured = context.OpenFp32().Graph;
        if (!context.Request.Quantization.CrossLayerEqualization)
        {
            return (captured, null);
        }
        var (equalized, _) = CrossLayerEqualization.Apply(captured);
        return (equalized, equalized);
    }

    /// <summary>
    /// An int8 graph from the calibrated qparams: prepare (fold, fuse, annotate; layers in <paramref name="keepFloat"/> stay
    /// FP32), calibration only when the model observes a value the calibration did not (a kept layer's output read by an int8
    /// kernel), convert with the calibrated qparams, then the fine-tuned weights of the int8 layers when given, else fast
    /// bias correction when asked (fine-tuning trains the biases itself).
    /// </summary>
    public static QuantizedGraph Build(
        ModelGraph fp32Graph, QConfig qconfig, IReadOnlyCollection<string>? keepFloat, CalibratedActivations calibration,
        IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)>? trainedWeights, Func<IEnumerable<Tensor>> batches, bool biasCorrection,
        IProgress<CalibrationProgress>? progress, CancellationToken cancellationToken)
    {
        using var prepared = QuantizePt2e.Prepare(fp32Graph, qconfig, keepFloat);
        var calibrated = calibration.For(prepared.Graph);
        if (prepared.ActivationObservers.Keys.Any(v => !calibrated.ContainsKey(v)))
        {
            // The observers see the FP32 graph's values, as calibrate's did: the values both observe get the same qparams.
            QuantizePt2e.Calibrate(prepared, batches(), progress, cancellationToken);
        }
        var quantized = QuantizePt2e.Convert(prepared, calibrated);
        try
        {
            if (trainedWeights is not null)
            {
                quantized.ReplaceWeights(quantized.Weights.Keys.ToDictionary(
                    layer => layer,
                    layer => trainedWeights.TryGetValue(layer, out var trained)
                        ? QuantizePt2e.QuantizeWeight(qconfig, trained.Weight, trained.Bias)
                        : throw new PipelineInputException($"The fine-tuned weights have no layer {layer}; run the job again from calibrate.")));
            }
            else if (biasCorrection)
            {
                foreach (var shift in FastBiasCorrection.Apply(quantized, batches(), cancellationToken).Values)
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

    /// <summary>
    /// Each conv / linear layer's weight and bias as calibration quantized them: BN folded into the FP32 weights, by layer
    /// name (clones, owned by the caller). The int8 checkpoint holds only the rounded weights.
    /// </summary>
    public static Dictionary<string, (Tensor Weight, Tensor? Bias)> FoldedFloatWeights(ModelGraph fp32Graph)
    {
        // Folding is what prepare does to the weights; fusing ReLUs and creating observers would change none of them.
        using var folded = GraphFusion.FoldBatchNorm(fp32Graph);
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

    /// <summary>The Qat stage's product: each int8 layer's fine-tuned float weight and bias (BN folded), as safetensors.</summary>
    public static void SaveTrainedWeights(IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)> weights, string path)
    {
        var tensors = new List<(string Name, Tensor Tensor)>();
        foreach (var (layer, (weight, bias)) in weights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            tensors.Add(($"{layer}.weight", weight));
            if (bias is not null)
            {
                tensors.Add(($"{layer}.bias", bias));
            }
        }
        File.WriteAllBytes(path, SafeTensorsFile.Write(tensors, new Dictionary<string, string> { ["format"] = "modelopt-qat-weights" }));
    }

    /// <summary>The fine-tuned weights the Qat stage wrote (owned by the caller); null when it wrote none (QAT off, or not needed).</summary>
    public static Dictionary<string, (Tensor Weight, Tensor? Bias)>? TrainedWeights(JobWorkspace workspace)
    {
        if (!workspace.Has(JobWorkspace.QatWeights))
        {
            return null;
        }
        var (tensors, _) = SafeTensorsFile.Read(File.ReadAllBytes(workspace.PathOf(JobWorkspace.QatWeights)));
        return tensors.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal))
            .Select(k => k[..^".weight".Length])
            .ToDictionary(layer => layer, layer => (tensors[$"{layer}.weight"], tensors.GetValueOrDefault($"{layer}.bias")));
    }

    public static void Dispose(IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)>? weights)
    {
        foreach (var (weight, bias) in weights?.Values ?? [])
        {
            weight.Dispose();
            bias?.Dispose();
        }
    }
}
