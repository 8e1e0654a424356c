using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Quantization.Algorithms;

/// <summary>
/// NNCF's fast bias correction: int8 weights (and the quantized input) move each conv / linear output channel's mean;
/// adding that mean shift, measured on the calibration images, to the layer's fp32 bias cancels it. Each layer sees the
/// FP32 model's input, as the per-layer report does, so the correction of one layer does not depend on the others'.
/// Needs the calibrated graph before it is saved: its nodes still hold the FP32 weights.
/// </summary>
public static class FastBiasCorrection
{
    /// <summary>
    /// Per int8 layer, the mean over <paramref name="batches"/> (owned by the caller) of FP32 output minus int8 output,
    /// one value per output channel, before the layer's ReLU (float64, owned by the caller).
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> MeanOutputShift(QuantizedGraph quantized, IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        ArgumentNullException.ThrowIfNull(batches);
        var layers = quantized.Graph.Nodes.Where(n => X86InductorQuantizer.LayerName(n) is { } name && quantized.Weights.ContainsKey(name)).ToList();
        var sums = new Dictionary<string, Tensor>();
        long images = 0;
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var values = new Dictionary<GraphValue, Tensor>();
                // The interpreter disposes its intermediate values; aliases moved out to this scope outlive the run.
                GraphInterpreter.Run(quantized.Graph, batch, (value, tensor) => values[value] = tensor.alias().MoveToOuterDisposeScope());
                foreach (var layer in layers)
                {
                    var name = X86InductorQuantizer.LayerName(layer)!;
                    // Summed over the batch, averaged over the spatial positions: every image weighs the same.
                    var shift = ChannelMeans(PreActivation(quantized, layer, values, int8: false) - PreActivation(quantized, layer, values, int8: true), layer).sum(dim: 0);
                    if (sums.TryGetValue(name, out var sum))
                    {
                        sum.add_(shift);
                    }
                    else
                    {
                        sums[name] = shift.MoveToOuterDisposeScope();
                    }
                }
                images += batch.shape[0];
                scope.DisposeEverything();
            }
        }
        if (images == 0)
        {
            throw new ArgumentException("Bias correction needs at least one image.", nameof(batches));
        }
        return sums.ToDictionary(s => s.Key, s => { var mean = s.Value / images; s.Value.Dispose(); return mean; });
    }

    /// <summary>
    /// Adds each int8 layer's <see cref="MeanOutputShift"/> on <paramref name="batches"/> to its fp32 bias, in place.
    /// A layer without a bias (none after BatchNorm folding) is left as it is. Returns the shifts it corrected.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> Apply(QuantizedGraph quantized, IEnumerable<Tensor> batches, CancellationToken cancellationToken = default)
    {
        var shifts = MeanOutputShift(quantized, batches, cancellationToken);
        using var noGrad = no_grad();
        foreach (var (name, shift) in shifts)
        {
            if (quantized.Weights[name].Bias is { } bias)
            {
                bias.add_(shift.to_type(bias.dtype));
            }
        }
        return shifts;
    }

    // The layer's output before its fused ReLU: FP32 (FP32 input and weight) or int8 (quantized input, int8 weight, its bias).
    private static Tensor PreActivation(QuantizedGraph quantized, GraphNode layer, Dictionary<GraphValue, Tensor> values, bool int8)
    {
        var input = values[layer.Inputs[0]];
        if (int8 && quantized.TryQuantizationOf(layer.Inputs[0]) is { } q)
        {
            input = FakeQuantizedGraphInterpreter.FakeQuantize(input, q);
        }
        var name = X86InductorQuantizer.LayerName(layer)!;
        return layer switch
        {
            Conv2dNode conv => functional.conv2d(
                input, int8 ? FakeQuantizedGraphInterpreter.DequantizedWeight(quantized, name) : conv.Weight,
                int8 ? quantized.Weights[name].Bias : conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups),
            LinearNode linear => functional.linear(
                input, int8 ? FakeQuantizedGraphInterpreter.DequantizedWeight(quantized, name) : linear.Weight, int8 ? quantized.Weights[name].Bias : linear.Bias),
            _ => throw new ArgumentException($"{layer} is no conv or linear layer.", nameof(layer)),
        };
    }

    // N x C x H x W (a conv), N x C or N x ... x C (a linear on N-D input) -> N x C in float64.
    private static Tensor ChannelMeans(Tensor output, GraphNode layer) => layer switch
    {
        Conv2dNode => output.to_type(ScalarType.Float64).mean([2, 3]),
        _ when output.dim() > 2 => output.to_type(ScalarType.Float64).flatten(1, -2).mean([1]),
        _ => output.to_type(ScalarType.Float64),
    };
}
