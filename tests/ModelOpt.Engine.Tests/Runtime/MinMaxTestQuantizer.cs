using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;

namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// TEST-ONLY stand-in for calibration + convert: folds and fuses the model's graph, records the min/max of every
/// quantized value over random batches, and derives uint8 affine activation qparams and int8 symmetric weights
/// (per channel or per tensor). The real observers and convert live in Quantization/; this only feeds the backend tests.
/// </summary>
internal static class MinMaxTestQuantizer
{
    public static QuantizedGraph Quantize(CifarResNet model, long[] inputShape, bool perChannelWeights, int batches = 3, int batchSize = 16)
    {
        model.eval();
        using var captured = GraphBuilder.Capture(model, inputShape);
        using var folded = GraphFusion.FoldBatchNorm(captured);
        var fused = GraphFusion.FuseReLU(folded);
        var observed = fused.Nodes.Where(n => n is InputNode or Conv2dNode or AddNode or LinearNode).Select(n => n.Output).ToHashSet();
        var ranges = new Dictionary<GraphValue, (double Min, double Max)>();

        using (no_grad())
        {
            for (var b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                var shape = inputShape.ToArray();
                shape[0] = batchSize;
                GraphInterpreter.Run(fused, randn(shape), (value, tensor) =>
                {
                    if (observed.Contains(value))
                    {
                        var (min, max) = (tensor.min().item<float>(), tensor.max().item<float>());
                        ranges[value] = ranges.TryGetValue(value, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
                    }
                });
            }
        }

        var activations = ranges.ToDictionary(kv => kv.Key, kv => Uint8Affine(kv.Value.Min, kv.Value.Max));
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
        var description = $"test min/max: uint8 affine activations, int8 symmetric {(perChannelWeights ? "per-channel" : "per-tensor")} weights";
        return new QuantizedGraph(fused, activations, weights, description);
    }

    private static ActivationQuantization Uint8Affine(double min, double max)
    {
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        var scale = Math.Max((max - min) / 255, 1.0 / 4096);
        var zeroPoint = (long)Math.Clamp(Math.Round(-min / scale), 0, 255);
        return new ActivationQuantization(scale, zeroPoint, ScalarType.QUInt8, 0, 255);
    }

    private static WeightQuantization Int8Symmetric(Tensor weight, Tensor? bias, bool perChannel)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = weight.detach();
        var absMax = perChannel ? w.abs().flatten(1).amax([1]) : w.abs().max().reshape(1);
        var scales = (absMax.to_type(ScalarType.Float64) / 127.5).clamp_min(1e-8);
        var zeroPoints = zeros(scales.shape, ScalarType.Int64);
        var q = perChannel
            ? quantize_per_channel(w, scales, zeroPoints, WeightQuantization.ChannelAxis, ScalarType.QInt8)
            : quantize_per_tensor(w, scales.item<double>(), 0, ScalarType.QInt8);
        return new WeightQuantization(
            q.int_repr().MoveToOuterDisposeScope(),
            scales.MoveToOuterDisposeScope(),
            zeroPoints.MoveToOuterDisposeScope(),
            perChannel,
            bias?.detach().clone().MoveToOuterDisposeScope());
    }
}
