using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Quantizers;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>
/// Runs a <see cref="QuantizedGraph"/> in float with the int8 numerics simulated: every quantized value is quantized and
/// dequantized with its <see cref="QuantizedGraph.QuantizationOf"/> qparams right after it is produced (pooling and clamp
/// too, as the int8 kernels requantize to their input's qparams; values that stay FP32 are left as they are), and
/// convs / linears use dequantized int8 weights with the fp32 bias (layers kept FP32 their float weights).
/// The reference the int8 backends are checked against; accumulation is float, so it differs from them only by the
/// kernels' rounding of the int32 accumulator.
/// </summary>
public static class FakeQuantizedGraphInterpreter
{
    public static Tensor Run(QuantizedGraph quantized, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var output = node switch
            {
                InputNode => input.detach().to_type(ScalarType.Float32),
                Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
                    values[conv.Input], EffectiveWeight(quantized, conv), EffectiveBias(quantized, conv),
                    conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
                AddNode add => Relu(add.Relu, values[add.Left] + values[add.Right]),
                LinearNode linear => Relu(linear.Relu, functional.linear(
                    values[linear.Input], EffectiveWeight(quantized, linear), EffectiveBias(quantized, linear))),
                _ => GraphInterpreter.EvaluateShared(node, v => values[v]),
            };
            values[node.Output] = quantized.TryQuantizationOf(node.Output) is { } q ? FakeQuantize(output, q) : output;
        }
        return values[quantized.Graph.Output].MoveToOuterDisposeScope();
    }

    /// <summary>dequantize(quantize(x)) with one activation's qparams.</summary>
    public static Tensor FakeQuantize(Tensor x, ActivationQuantization q)
    {
        var storage = IntegerDtype(q.Dtype);
        using var quantized = QuantizedDecomposed.QuantizePerTensor(x, q.Scale, q.ZeroPoint, q.QuantMin, q.QuantMax, storage);
        return QuantizedDecomposed.DequantizePerTensor(quantized, q.Scale, q.ZeroPoint, q.QuantMin, q.QuantMax, storage);
    }

    /// <summary>The float weight the int8 kernels effectively multiply by: (q - zero_point) * scale.</summary>
    public static Tensor DequantizedWeight(QuantizedGraph quantized, string name)
    {
        var w = quantized.Weights[name];
        var dtype = w.IntWeight.dtype;
        var (min, max) = QuantizedDecomposed.DtypeBounds[dtype];
        return w.PerChannel
            ? QuantizedDecomposed.DequantizePerChannel(w.IntWeight, w.Scales, w.ZeroPoints, WeightQuantization.ChannelAxis, min, max, dtype)
            : QuantizedDecomposed.DequantizePerTensor(w.IntWeight, w.Scales.item<double>(), w.ZeroPoints.item<long>(), min, max, dtype);
    }

    // A layer kept FP32 multiplies by its float weight.
    private static Tensor EffectiveWeight(QuantizedGraph quantized, GraphNode layer) =>
        quantized.IsKeptFloat(layer) ? quantized.FloatParameters(X86InductorQuantizer.LayerName(layer)!).Weight
            : DequantizedWeight(quantized, X86InductorQuantizer.LayerName(layer)!);

    private static Tensor? EffectiveBias(QuantizedGraph quantized, GraphNode layer)
    {
        var name = X86InductorQuantizer.LayerName(layer)!;
        return quantized.IsKeptFloat(layer) ? quantized.FloatParameters(name).Bias : quantized.Weights[name].Bias;
    }

    private static ScalarType IntegerDtype(ScalarType quantized) => quantized switch
    {
        ScalarType.QUInt8 => ScalarType.Byte,
        ScalarType.QInt8 => ScalarType.Int8,
        ScalarType.QInt32 => ScalarType.Int32,
        _ => quantized,
    };

    private static Tensor Relu(bool apply, Tensor x) => apply ? functional.relu(x) : x;
}
