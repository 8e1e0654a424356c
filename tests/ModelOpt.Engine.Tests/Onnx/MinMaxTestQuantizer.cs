using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;

namespace ModelOpt.Engine.Tests.Onnx;

/// <summary>
/// TEST-ONLY stand-in for calibration + convert, so the ONNX backend can be tested before the real one lands:
/// fold + fuse, min/max of the input and every conv / add / linear output → uint8 affine qparams, weights int8
/// symmetric (per-channel by default). Not a recipe to ship (no histogram, no reduce_range).
/// </summary>
internal static class MinMaxTestQuantizer
{
    public static QuantizedGraph Quantize(ModelGraph captured, IEnumerable<Tensor> calibrationBatches, bool perChannelWeights = true)
    {
        using var folded = GraphFusion.FoldBatchNorm(captured);
        var fused = GraphFusion.FuseReLU(folded);
        var observed = fused.Nodes
            .Where(n => n is InputNode or Conv2dNode or AddNode or LinearNode)
            .Select(n => n.Output)
            .ToHashSet();
        var ranges = new Dictionary<GraphValue, (double Min, double Max)>();
        foreach (var batch in calibrationBatches)
        {
            using var output = GraphInterpreter.Run(fused, batch, (value, tensor) =>
            {
                if (observed.Contains(value))
                {
                    var (min, max) = ranges.GetValueOrDefault(value, (0.0, 0.0)); // 0 stays representable.
                    ranges[value] = (Math.Min(min, tensor.min().item<float>()), Math.Max(max, tensor.max().item<float>()));
                }
            });
        }

        var activations = ranges.ToDictionary(r => r.Key, r => Uint8(r.Value.Min, r.Value.Max));
        var weights = new Dictionary<string, WeightQuantization>();
        foreach (var node in fused.Nodes)
        {
            switch (node)
            {
                case Conv2dNode conv:
                    weights[conv.Name] = Int8Symmetric(conv.Weight, conv.Bias, perChannelWeights);
                    break;
                case LinearNode linear:
                    weights[linear.Name] = Int8Symmetric(linear.Weight, linear.Bias, perChannelWeights);
                    break;
            }
        }
        return new QuantizedGraph(fused, activations, weights, $"test-only min/max, uint8 activations, int8 symmetric weights ({(perChannelWeights ? "per-channel" : "per-tensor")})");
    }

    private static ActivationQuantization Uint8(double min, double max)
    {
        var scale = Math.Max((max - min) / 255, 1e-8);
        return new ActivationQuantization(scale, Math.Clamp((long)Math.Round(-min / scale), 0, 255), ScalarType.Byte, 0, 255);
    }

    private static WeightQuantization Int8Symmetric(Tensor weight, Tensor? bias, bool perChannel)
    {
        using var scope = NewDisposeScope();
        var dims = Enumerable.Range(perChannel ? 1 : 0, perChannel ? (int)weight.dim() - 1 : (int)weight.dim()).Select(d => (long)d).ToArray();
        var scales = (weight.detach().abs().amax(dims).to(float64) / 127).clamp_min(1e-8).reshape(-1);
        var zeroPoints = zeros_like(scales, dtype: int64);
        var intWeight = perChannel
            ? quantize_per_channel(weight.detach(), scales, zeroPoints, WeightQuantization.ChannelAxis, ScalarType.QInt8).int_repr()
            : quantize_per_tensor(weight.detach(), scales.item<double>(), 0, ScalarType.QInt8).int_repr();
        return new WeightQuantization(
            intWeight.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope(), zeroPoints.MoveToOuterDisposeScope(),
            perChannel, bias?.detach().clone().MoveToOuterDisposeScope());
    }
}
