using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// TEST-ONLY float reference of an int8 model: FP32 ops on dequantized weights, with quantize→dequantize (same
/// qparams) at every quantized value, including pooled values (quantized pooling keeps its input's qparams).
/// </summary>
internal static class FakeQuantSimulator
{
    public static Tensor Run(QuantizedGraph quantized, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var output = node switch
            {
                InputNode => input,
                Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
                    values[conv.Input], Dequantized(quantized.Weights[conv.Name]), quantized.Weights[conv.Name].Bias,
                    conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
                AddNode add => Relu(add.Relu, values[add.Left] + values[add.Right]),
                AdaptiveAvgPool2dNode pool => functional.adaptive_avg_pool2d(values[pool.Input], pool.OutputSize),
                MaxPool2dNode pool => functional.max_pool2d(values[pool.Input], pool.KernelSize, pool.Stride, pool.Padding),
                FlattenNode flatten => values[flatten.Input].flatten(flatten.StartDim),
                LinearNode linear => functional.linear(
                    values[linear.Input], Dequantized(quantized.Weights[linear.Name]), quantized.Weights[linear.Name].Bias),
                _ => throw new NotSupportedException(node.GetType().Name),
            };
            values[node.Output] = node is FlattenNode ? output : FakeQuantize(output, quantized.QuantizationOf(node.Output));
        }
        return values[quantized.Graph.Output].MoveToOuterDisposeScope();
    }

    private static Tensor FakeQuantize(Tensor x, ActivationQuantization q) =>
        (((x / q.Scale).round() + q.ZeroPoint).clamp(q.QuantMin, q.QuantMax) - q.ZeroPoint) * q.Scale;

    private static Tensor Dequantized(WeightQuantization w)
    {
        var shape = new long[w.IntWeight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var scales = w.PerChannel ? w.Scales.reshape(shape) : w.Scales;
        var zeroPoints = w.PerChannel ? w.ZeroPoints.reshape(shape) : w.ZeroPoints;
        return ((w.IntWeight.to_type(ScalarType.Float64) - zeroPoints) * scales).to_type(ScalarType.Float32);
    }

    private static Tensor Relu(bool apply, Tensor x) => apply ? functional.relu(x) : x;
}
