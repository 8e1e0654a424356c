using ModelOpt.Engine.Graph;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>
/// Runs a <see cref="QuantizedGraph"/> in float with the int8 numerics simulated: every quantized value is quantized and
/// dequantized with its <see cref="QuantizedGraph.QuantizationOf"/> qparams right after it is produced (pooling and clamp
/// too, as the int8 kernels requantize to their input's qparams; values that stay FP32 are left as they are), and
/// convs / linears use dequantized int8 weights with the fp32 bias (layers kept FP32 their float weights).
/// The reference the int8 backends are checked against; accumulation is float, so it differs from them only by the
/// kernels' rounding of the int32 accumulator. Values are freed after their last use, as in <see cref="GraphInterpreter"/>.
/// </summary>
public static class FakeQuantizedGraphInterpreter
{
    /// <param name="floatLayers">
    /// Int8 layers simulated as if kept FP32 (float weights; their output is still quantized, as it is where an int8
    /// kernel reads it): what leaving them in float would do, without converting again.
    /// </param>
    public static Tensor Run(QuantizedGraph quantized, Tensor input, IReadOnlySet<string>? floatLayers = null)
    {
        using var scope = NewDisposeScope();
        return Values(quantized, input, floatLayers)[quantized.Graph.Output].MoveToOuterDisposeScope();
    }

    /// <summary>Every output of the graph, in <see cref="ModelGraph.Outputs"/> order (the caller owns them).</summary>
    /// <inheritdoc cref="Run" path="/param"/>
    public static Tensor[] RunAll(QuantizedGraph quantized, Tensor input, IReadOnlySet<string>? floatLayers = null)
    {
        using var scope = NewDisposeScope();
        var values = Values(quantized, input, floatLayers);
        return [.. quantized.Graph.Outputs.Select(o => values[o].alias().MoveToOuterDisposeScope())];
    }

    // The caller's dispose scope owns the values.
    private static Dictionary<GraphValue, Tensor> Values(QuantizedGraph quantized, Tensor input, IReadOnlySet<string>? floatLayers)
    {
        using var noGrad = no_grad();
        var graph = quantized.Graph;
        var values = new Dictionary<GraphValue, Tensor>();
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            values[graph.Nodes[i].Output] = FakeQuantizedOutput(quantized, graph.Nodes[i], input, values, floatLayers);
            GraphInterpreter.FreeLastUses(values, graph.LastUses[i]);
        }
        return values;
    }

    /// <summary>One node's output before its own fake quantization, from its inputs' (already fake-quantized) values.</summary>
    public static Tensor Evaluate(QuantizedGraph quantized, GraphNode node, Func<GraphValue, Tensor> value, IReadOnlySet<string>? floatLayers = null)
    {
        bool IsFloat(string layer) => !quantized.Weights.ContainsKey(layer) || floatLayers?.Contains(layer) == true;
        Tensor WeightOf(string layer, Tensor floatWeight) => IsFloat(layer) ? floatWeight : DequantizedWeight(quantized, layer);
        Tensor? BiasOf(string layer, Tensor? floatBias) => IsFloat(layer) ? floatBias : quantized.Weights[layer].Bias;
        return node switch
        {
            Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
                value(conv.Input), WeightOf(conv.Name, conv.Weight), BiasOf(conv.Name, conv.Bias),
                conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
            AddNode add => Relu(add.Relu, value(add.Left) + value(add.Right)),
            LinearNode linear => Relu(linear.Relu, functional.linear(
                value(linear.Input), WeightOf(linear.Name, linear.Weight), BiasOf(linear.Name, linear.Bias))),
            _ => GraphInterpreter.EvaluateShared(node, value),
        };
    }

    /// <summary>
    /// dequantize(quantize(x)) with one activation's qparams, in four passes over x instead of eight: rounded values are
    /// whole floats, so clamping to the bounds shifted by the zero point equals adding it, clamping, the integer round
    /// trip and subtracting it, bit for bit on finite inputs (a NaN stays NaN). The per-layer report spends most of its
    /// time here.
    /// </summary>
    public static Tensor FakeQuantize(Tensor x, ActivationQuantization q) =>
        (x * (1.0 / q.Scale)).round_().clamp_(q.QuantMin - q.ZeroPoint, q.QuantMax - q.ZeroPoint).mul_(q.Scale);

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

    /// <summary>A node's fake-quantized output; its temporaries (the float result before quantization) are freed at once.</summary>
    private static Tensor FakeQuantizedOutput(
        QuantizedGraph quantized, GraphNode node, Tensor input, Dictionary<GraphValue, Tensor> values, IReadOnlySet<string>? floatLayers)
    {
        using var scope = NewDisposeScope();
        var output = node is InputNode ? input.detach().to_type(ScalarType.Float32) : Evaluate(quantized, node, v => values[v], floatLayers);
        return (quantized.TryQuantizationOf(node.Output) is { } q ? FakeQuantize(output, q) : output).MoveToOuterDisposeScope();
    }

    private static Tensor Relu(bool apply, Tensor x) => apply ? functional.relu(x) : x;
}
