using System.Diagnostics;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>
/// Quantization-aware fine-tuning of a calibrated int8 model, in the manner of PyTorch's <c>prepare_qat_fx</c> recipe
/// (ADR-021): the BN-folded float weights of every int8 layer (and their biases) are trained through fake quantization —
/// weights per step with a fresh weight observer of the job's qconfig, activations with the qparams calibration froze —
/// with the straight-through estimator of <c>torch.fake_quantize_*</c> (its gradient is 1 inside the quantization range
/// and 0 outside). Layers kept FP32 and float ops are not trained. The loss is the KL divergence from the FP32 model's
/// outputs (distillation: no labels needed; mean squared error for an output that is not logits) or cross-entropy
/// against the labels. The trained weights are then quantized as <see cref="QuantizePt2e.Convert"/> quantizes them and
/// replace the model's int8 weights; the activation qparams stay as calibrated.
/// </summary>
public static class QuantizationAwareTraining
{
    public const double Momentum = 0.9;

    /// <param name="quantized">The calibrated model; its int8 weights are replaced by the fine-tuned ones.</param>
    /// <param name="floatWeights">Each int8 layer's BN-folded FP32 weight and bias, by layer name: where training starts (not modified).</param>
    /// <param name="teacher">The FP32 model's forward, for distillation; null trains against the labels.</param>
    /// <returns>The epochs, and the fine-tuned float weights (owned by the caller), which quantize to the model's new int8 weights.</returns>
    /// <exception cref="OperationCanceledException">Checked before every batch; the model is left as it was.</exception>
    public static QatResult FineTune(
        QuantizedGraph quantized,
        IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)> floatWeights,
        QConfig qconfig,
        ImageDataset train,
        Func<Tensor, Tensor>? teacher,
        QatOptions options,
        IProgress<QatProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        using var subset = options.TrainSubset is { } n ? train.Take(n) : null;
        var data = subset ?? train;
        if (teacher is null && !data.IsLabeled)
        {
            throw new QuantizationException($"{data.Name} has no labels: quantization-aware training on it needs distillation from the FP32 model.");
        }
        random.manual_seed(options.Seed);
        var shuffle = new Random(options.Seed);
        var parameters = new Dictionary<string, (Parameter Weight, Parameter? Bias)>();
        try
        {
            foreach (var layer in quantized.Weights.Keys)
            {
                var (weight, bias) = floatWeights.TryGetValue(layer, out var given) ? given
                    : throw new ArgumentException($"No float weight for int8 layer {layer}.", nameof(floatWeights));
                var startBias = quantized.Weights[layer].Bias ?? bias;
                parameters[layer] = (new Parameter(weight.detach().to_type(ScalarType.Float32).clone()),
                    startBias is null ? null : new Parameter(startBias.detach().to_type(ScalarType.Float32).clone()));
            }
            var epochs = Train(quantized, parameters, qconfig, data, teacher, options, shuffle, progress, cancellationToken);
            var trained = new Dictionary<string, WeightQuantization>();
            var floats = new Dictionary<string, (Tensor Weight, Tensor? Bias)>();
            foreach (var (layer, (weight, bias)) in parameters)
            {
                trained[layer] = QuantizePt2e.QuantizeWeight(qconfig, weight, bias);
                floats[layer] = (weight.detach().clone(), bias?.detach().clone());
            }
            quantized.ReplaceWeights(trained);
            return new QatResult(epochs, data.Count, floats);
        }
        finally
        {
            foreach (var (weight, bias) in parameters.Values)
            {
                weight.Dispose();
                bias?.Dispose();
            }
        }
    }

    private static List<QatEpoch> Train(
        QuantizedGraph quantized, Dictionary<string, (Parameter Weight, Parameter? Bias)> parameters, QConfig qconfig, ImageDataset data,
        Func<Tensor, Tensor>? teacher, QatOptions options, Random shuffle, IProgress<QatProgress>? progress, CancellationToken cancellationToken)
    {
        var trainable = parameters.Values.SelectMany(p => p.Bias is null ? new[] { p.Weight } : [p.Weight, p.Bias]).ToList();
        using var optimizer = optim.SGD(trainable, options.LearningRate, momentum: Momentum);
        var batchesPerEpoch = data.BatchCount(options.BatchSize);
        var epochs = new List<QatEpoch>(options.Epochs);
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var (batchNumber, lossSum, images) = (0, 0.0, 0L);
            using var scope = NewDisposeScope();
            foreach (var batch in data.Batches(options.BatchSize, shuffle))
            {
                cancellationToken.ThrowIfCancellationRequested();
                optimizer.zero_grad();
                var output = Forward(quantized, parameters, qconfig, batch.Images);
                var loss = Loss(output, batch, teacher);
                loss.backward();
                optimizer.step();
                var value = loss.item<float>();
                lossSum += value * batch.Count;
                images += batch.Count;
                progress?.Report(new QatProgress(epoch, options.Epochs, ++batchNumber, batchesPerEpoch, value));
                scope.DisposeEverything();
            }
            epochs.Add(new QatEpoch(epoch, lossSum / Math.Max(1, images), clock.Elapsed));
        }
        return epochs;
    }

    private static Tensor Loss(Tensor output, ImageBatch batch, Func<Tensor, Tensor>? teacher)
    {
        if (teacher is null)
        {
            return functional.cross_entropy(output, batch.Labels);
        }
        Tensor target;
        using (no_grad())
        {
            target = teacher(batch.Images).detach();
        }
        // KL(teacher || student) over the class axis of logits; anything else is matched value by value.
        return output.dim() == 2
            ? functional.kl_div(functional.log_softmax(output, 1), functional.log_softmax(target, 1), reduction: Reduction.Sum, log_target: true) / output.shape[0]
            : functional.mse_loss(output, target);
    }

    /// <summary>
    /// The fake-quantized forward with gradients: <see cref="FakeQuantizedGraphInterpreter"/>'s numerics, with each int8
    /// layer's weight taken from its trainable parameter and fake-quantized with qparams observed on it at this step.
    /// </summary>
    internal static Tensor Forward(
        QuantizedGraph quantized, IReadOnlyDictionary<string, (Parameter Weight, Parameter? Bias)> parameters, QConfig qconfig, Tensor input)
    {
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var output = node switch
            {
                InputNode => input.to_type(ScalarType.Float32),
                Conv2dNode conv when parameters.TryGetValue(conv.Name, out var p) => Relu(conv.Relu, functional.conv2d(
                    values[conv.Input], FakeQuantizedWeight(p.Weight, qconfig), p.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
                LinearNode linear when parameters.TryGetValue(linear.Name, out var p) => Relu(linear.Relu, functional.linear(
                    values[linear.Input], FakeQuantizedWeight(p.Weight, qconfig), p.Bias)),
                _ => FakeQuantizedGraphInterpreter.Evaluate(quantized, node, v => values[v]),
            };
            values[node.Output] = quantized.TryQuantizationOf(node.Output) is { } q
                ? FakeQuantizePerTensor(output, q.Scale, q.ZeroPoint, q.QuantMin, q.QuantMax)
                : output;
        }
        return values[quantized.Graph.Output];
    }

    private static Tensor Relu(bool relu, Tensor x) => relu ? functional.relu(x) : x;

    /// <summary>The weight through fake quantization with this step's qparams (a fresh observer of the qconfig, as convert uses).</summary>
    private static Tensor FakeQuantizedWeight(Tensor weight, QConfig qconfig)
    {
        using var observer = qconfig.Weight();
        Tensor scale, zeroPoint;
        using (no_grad())
        {
            observer.Observe(weight.detach());
            (scale, zeroPoint) = observer.CalculateQParams();
        }
        var spec = observer.Spec;
        return spec.IsPerChannel
            ? FakeQuantizePerChannel(weight, scale, zeroPoint, spec.QuantMin, spec.QuantMax)
            : FakeQuantizePerTensor(weight, scale.item<float>(), zeroPoint.item<long>(), spec.QuantMin, spec.QuantMax);
    }

    /// <summary>
    /// <c>torch.fake_quantize_per_tensor_affine</c> (TorchSharp does not bind it): the value is
    /// <see cref="FakeQuantizedGraphInterpreter.FakeQuantize"/>'s, the gradient 1 where x lies inside the quantization range
    /// and 0 outside, as the ATen op's straight-through estimator.
    /// </summary>
    internal static Tensor FakeQuantizePerTensor(Tensor x, double scale, long zeroPoint, long quantMin, long quantMax)
    {
        var inRange = x.clamp((quantMin - zeroPoint) * scale, (quantMax - zeroPoint) * scale);
        Tensor quantized;
        using (no_grad())
        {
            quantized = FakeQuantizedGraphInterpreter.FakeQuantize(x.detach(), new ActivationQuantization(scale, zeroPoint, ScalarType.QUInt8, quantMin, quantMax));
        }
        return inRange + (quantized - inRange).detach();
    }

    /// <summary>The same along the output-channel axis 0 (<c>torch.fake_quantize_per_channel_affine</c>, unbound in TorchSharp too).</summary>
    internal static Tensor FakeQuantizePerChannel(Tensor w, Tensor scale, Tensor zeroPoint, long quantMin, long quantMax)
    {
        long[] shape = [-1, .. Enumerable.Repeat(1L, (int)w.dim() - 1)];
        var s = scale.to_type(ScalarType.Float32).reshape(shape);
        var z = zeroPoint.to_type(ScalarType.Float32).reshape(shape);
        var low = (quantMin - z) * s;
        var high = (quantMax - z) * s;
        var inRange = minimum(maximum(w, low), high);
        Tensor quantized;
        using (no_grad())
        {
            // Multiplied by the reciprocal, as QuantizedDecomposed does: the extreme weight of a symmetric channel lies
            // exactly on a .5 tie, and only the same float32 product rounds it the same way.
            quantized = minimum(maximum((w.detach() * (1.0 / s)).round_(), quantMin - z), quantMax - z).mul_(s);
        }
        return inRange + (quantized - inRange).detach();
    }
}
