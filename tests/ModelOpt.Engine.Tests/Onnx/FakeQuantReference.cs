using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Tests.Onnx;

/// <summary>
/// TEST-ONLY float simulation of a <see cref="QuantizedGraph"/>: dequantized int8 weights, biases on their int32 grid, and every
/// quantized value passed through quantize→dequantize with its qparams — what the QDQ file means, computed by torch.
/// </summary>
internal static class FakeQuantReference
{
    public static Tensor Run(QuantizedGraph quantized, Tensor input)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var output = node switch
            {
                InputNode => input.alias(),
                Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
                    values[conv.Input], Dequantized(quantized.Weights[conv.Name]), Int32Grid(quantized, conv.Name, conv.Bias, conv.Input), conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
                AddNode add => Relu(add.Relu, values[add.Left] + values[add.Right]),
                AdaptiveAvgPool2dNode pool => functional.adaptive_avg_pool2d(values[pool.Input], pool.OutputSize),
                MaxPool2dNode pool => functional.max_pool2d(values[pool.Input], pool.KernelSize, pool.Stride, pool.Padding),
                FlattenNode flatten => values[flatten.Input].flatten(flatten.StartDim),
                LinearNode linear => functional.linear(values[linear.Input], Dequantized(quantized.Weights[linear.Name]), Int32Grid(quantized, linear.Name, linear.Bias, linear.Input)),
                _ => throw new NotSupportedException(node.GetType().Name),
            };
            values[node.Output] = FakeQuantize(output, quantized.QuantizationOf(node.Output));
        }
        return values[quantized.Graph.Output].MoveToOuterDisposeScope();
    }

    public static Tensor FakeQuantize(Tensor x, ActivationQuantization q)
    {
        var scale = (float)q.Scale;
        return ((x / scale).round() + q.ZeroPoint).clamp(q.QuantMin, q.QuantMax).sub(q.ZeroPoint).mul(scale);
    }

    private static Tensor Dequantized(WeightQuantization q)
    {
        var shape = Enumerable.Repeat(1L, (int)q.IntWeight.dim()).ToArray();
        shape[0] = -1;
        return (q.IntWeight.to(float32) - q.ZeroPoints.to(float32).reshape(shape)) * q.Scales.to(float32).reshape(shape);
    }

    /// <summary>The bias rounded to multiples of input_scale × weight_scale, as int8 kernels (fbgemm, ORT) add it.</summary>
    private static Tensor? Int32Grid(QuantizedGraph quantized, string name, Tensor? bias, GraphValue input)
    {
        if (bias is null)
        {
            return null;
        }
        var scale = quantized.Weights[name].Scales.to(float32).to(float64) * (double)(float)quantized.QuantizationOf(input).Scale;
        return ((bias.to(float64) / scale.to(float32).to(float64)).round() * scale.to(float32).to(float64)).to(float32);
    }

    private static Tensor Relu(bool apply, Tensor x) => apply ? functional.relu(x) : x;
}
