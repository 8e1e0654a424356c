using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Quantization.Sensitivity;

/// <summary>
/// The per-layer report, in the manner of PyTorch's numeric debugger (SQNR per node) and ONNX Runtime's
/// <c>qdq_loss_debug</c>, plus the accuracy each layer costs. Needs the calibrated graph before it is saved: its nodes
/// still hold the FP32 weights that the int8 ones are compared with.
/// </summary>
public static class LayerSensitivityAnalysis
{
    /// <summary>
    /// Measures every int8 layer on <paramref name="calibrationBatches"/> (owned by the caller) and, when
    /// <paramref name="validation"/> is given, the accuracy gain of leaving only that layer in FP32 (simulated by the
    /// fake-quantized interpreter). Sorted most sensitive first: largest accuracy gain, then lowest SQNR.
    /// </summary>
    public static IReadOnlyList<LayerSensitivity> Analyze(
        QuantizedGraph quantized,
        IEnumerable<Tensor> calibrationBatches,
        ImageDataset? validation,
        int batchSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        ArgumentNullException.ThrowIfNull(calibrationBatches);
        var layers = quantized.Graph.Nodes.Where(n => X86InductorQuantizer.LayerName(n) is { } name && quantized.Weights.ContainsKey(name)).ToList();
        var errors = layers.ToDictionary(l => l, _ => new LayerError());
        var layerAt = layers.ToDictionary(l => l.Output);
        var readers = layers.SelectMany(l => l.Inputs).CountBy(v => v).ToDictionary();
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            foreach (var batch in calibrationBatches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Each layer is measured as soon as the interpreter produces its output, and a layer input's alias is
                // released once every layer reading it is measured: holding every value of a batch of 128 at once
                // (hundreds of MB on resnet18-cifar) made the report 3.5 s on 256 images at 2 threads.
                var inputs = new Dictionary<GraphValue, Tensor>();
                var unread = new Dictionary<GraphValue, int>(readers);
                GraphInterpreter.Run(quantized.Graph, batch, (value, tensor) =>
                {
                    if (readers.ContainsKey(value))
                    {
                        inputs[value] = tensor.alias().MoveToOuterDisposeScope();
                    }
                    if (!layerAt.TryGetValue(value, out var layer))
                    {
                        return;
                    }
                    using (var layerScope = NewDisposeScope())
                    {
                        errors[layer].Add(tensor, LocalFakeQuantized(quantized, layer, inputs));
                    }
                    foreach (var input in layer.Inputs.Where(input => --unread[input] == 0))
                    {
                        inputs.Remove(input, out var released);
                        released!.Dispose();
                    }
                });
                scope.DisposeEverything();
            }
        }

        var gains = validation is null ? null : AccuracyGains(quantized, layers, validation, batchSize, cancellationToken);
        return layers
            .Select(layer =>
            {
                var name = X86InductorQuantizer.LayerName(layer)!;
                var output = quantized.QuantizationOf(layer.Output);
                var error = errors[layer];
                return new LayerSensitivity(
                    name, layer is Conv2dNode ? "conv2d" : "linear", error.SqnrDb, error.Mse, error.Min, error.Max,
                    output.Scale, output.ZeroPoint, gains?[name]);
            })
            .OrderByDescending(l => l.AccuracyGainWhenFloat ?? 0)
            .ThenBy(l => l.SqnrDb)
            .ToList();
    }

    /// <summary>Top-1 on <paramref name="validation"/> of the fake-quantized model with <paramref name="floatLayers"/> left FP32.</summary>
    public static double Accuracy(QuantizedGraph quantized, IReadOnlySet<string> floatLayers, ImageDataset validation, int batchSize, CancellationToken cancellationToken = default) =>
        AccuracyEvaluator.Measure(x => FakeQuantizedGraphInterpreter.Run(quantized, x, floatLayers), validation, batchSize: batchSize, cancellationToken: cancellationToken).Accuracy;

    private static Dictionary<string, double> AccuracyGains(
        QuantizedGraph quantized, List<GraphNode> layers, ImageDataset validation, int batchSize, CancellationToken cancellationToken)
    {
        var baseline = Accuracy(quantized, new HashSet<string>(), validation, batchSize, cancellationToken);
        return layers
            .Select(l => X86InductorQuantizer.LayerName(l)!)
            .ToDictionary(name => name, name => 100 * (Accuracy(quantized, new HashSet<string> { name }, validation, batchSize, cancellationToken) - baseline));
    }

    // The layer's int8 computation on its quantized FP32 input, output quantized: its own error only.
    private static Tensor LocalFakeQuantized(QuantizedGraph quantized, GraphNode layer, Dictionary<GraphValue, Tensor> inputs)
    {
        Tensor Input(GraphValue value) =>
            quantized.TryQuantizationOf(value) is { } q ? FakeQuantizedGraphInterpreter.FakeQuantize(inputs[value], q) : inputs[value];
        var output = FakeQuantizedGraphInterpreter.Evaluate(quantized, layer, Input);
        return FakeQuantizedGraphInterpreter.FakeQuantize(output, quantized.QuantizationOf(layer.Output));
    }

    /// <summary>Running sums over the calibration batches: signal and noise energy, element count, FP32 output range.</summary>
    private sealed class LayerError
    {
        private double signal;
        private double noise;
        private long count;

        public double Min { get; private set; } = double.PositiveInfinity;

        public double Max { get; private set; } = double.NegativeInfinity;

        // Epsilon keeps an exact layer (no noise) finite, so the report stores and serializes as plain numbers.
        public double SqnrDb => 10 * Math.Log10((signal + double.Epsilon) / (noise + double.Epsilon));

        public double Mse => count == 0 ? 0 : noise / count;

        // Float32 sums (LibTorch sums pairwise, so a batch's error stays near float32 rounding) added up across batches
        // in float64: float64 copies of every output were most of the calibrate stage's time on resnet20.
        public void Add(Tensor reference, Tensor quantized)
        {
            using var scope = NewDisposeScope();
            signal += reference.square().sum().item<float>();
            noise += (reference - quantized).pow_(2).sum().item<float>();
            count += reference.numel();
            var (min, max) = aminmax(reference);
            Min = Math.Min(Min, min.item<float>());
            Max = Math.Max(Max, max.item<float>());
        }
    }
}
