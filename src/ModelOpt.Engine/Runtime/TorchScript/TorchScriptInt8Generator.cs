using System.Globalization;
using System.Text;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Turns a <see cref="QuantizedGraph"/> into TorchScript over LibTorch's int8 CPU kernels. <c>forward</c> takes and
/// returns float tensors: it quantizes the input, runs <c>quantized::conv2d(_relu)</c>, <c>add(_relu)</c> and
/// <c>linear</c> with each output's calibrated scale/zero point, pools and flattens on quantized tensors, and
/// dequantizes the output. <c>setup</c> prepacks the int8 weights once.
/// </summary>
/// <remarks>
/// LibTorch aborts the process on a TorchScript compile error, so everything that could make the source invalid is
/// checked here, in C#: node kinds, missing quantization or weights, dtypes, non-finite numbers, empty int lists.
/// Identifiers come only from sanitized node names and value ids; numbers are written in invariant culture.
/// </remarks>
public static class TorchScriptInt8Generator
{
    public const string ClassName = "ModelOptInt8Model";

    private const string ConvPacked = "conv_packed";
    private const string LinearPacked = "linear_packed";
    private const string PackedParams = "__torch__.torch.classes.quantized";

    public static TorchScriptInt8Source Generate(QuantizedGraph quantized)
    {
        var graph = quantized.Graph;
        var names = new Dictionary<GraphValue, string>();
        var taken = new HashSet<string>();
        var layers = new List<string>();
        var biased = new List<string>();
        var setup = new StringBuilder();
        var forward = new StringBuilder();
        var convCount = 0;
        var linearCount = 0;

        foreach (var node in graph.Nodes)
        {
            var output = names[node.Output] = VariableName(node, taken);
            switch (node)
            {
                case InputNode:
                    var input = Quantization(quantized, node.Output);
                    forward.AppendLine($"    {output} = torch.quantize_per_tensor(x, {Float(input.Scale)}, {input.ZeroPoint}, {DtypeCode(input.Dtype)})");
                    break;
                case Conv2dNode conv:
                    var convBias = AppendWeight(setup, quantized, conv.Name, layers, biased);
                    setup.AppendLine($"    self.{ConvPacked}.append(ops.quantized.conv2d_prepack(w, {convBias}, " +
                        $"{IntList(conv.Stride, conv.Name)}, {IntList(conv.Padding, conv.Name)}, {IntList(conv.Dilation, conv.Name)}, {conv.Groups}))");
                    var convOut = Quantization(quantized, conv.Output);
                    forward.AppendLine($"    {output} = ops.quantized.{(conv.Relu ? "conv2d_relu" : "conv2d")}(" +
                        $"{names[conv.Input]}, self.{ConvPacked}[{convCount++}], {Float(convOut.Scale)}, {convOut.ZeroPoint})");
                    break;
                case AddNode add:
                    var addOut = Quantization(quantized, add.Output);
                    forward.AppendLine($"    {output} = ops.quantized.{(add.Relu ? "add_relu" : "add")}(" +
                        $"{names[add.Left]}, {names[add.Right]}, {Float(addOut.Scale)}, {addOut.ZeroPoint})");
                    break;
                case AdaptiveAvgPool2dNode pool:
                    forward.AppendLine($"    {output} = torch.adaptive_avg_pool2d({names[pool.Input]}, {IntList(pool.OutputSize, "adaptive_avg_pool2d")})");
                    break;
                case MaxPool2dNode pool:
                    var stride = pool.Stride.Length == 0 ? pool.KernelSize : pool.Stride;
                    forward.AppendLine($"    {output} = torch.max_pool2d({names[pool.Input]}, {IntList(pool.KernelSize, "max_pool2d")}, " +
                        $"{IntList(stride, "max_pool2d")}, {IntList(pool.Padding, "max_pool2d")}, [1, 1], False)");
                    break;
                case FlattenNode flatten:
                    forward.AppendLine($"    {output} = torch.flatten({names[flatten.Input]}, {flatten.StartDim})");
                    break;
                case LinearNode linear:
                    var linearBias = AppendWeight(setup, quantized, linear.Name, layers, biased);
                    setup.AppendLine($"    self.{LinearPacked}.append(ops.quantized.linear_prepack(w, {linearBias}))");
                    var linearOut = Quantization(quantized, linear.Output);
                    forward.AppendLine($"    {output} = ops.quantized.linear({names[linear.Input]}, " +
                        $"self.{LinearPacked}[{linearCount++}], {Float(linearOut.Scale)}, {linearOut.ZeroPoint})");
                    break;
                default:
                    throw new NotSupportedException(
                        $"The TorchScript int8 backend has no kernel for {node.GetType().Name} ({node.Output}); fold and fuse the graph first.");
            }
        }
        forward.AppendLine($"    return torch.dequantize({names[graph.Output]})");

        var self = $"self: __torch__.{ClassName}";
        var source = new StringBuilder()
            .AppendLine($"class {ClassName}(Module):")
            .AppendLine("  __parameters__ = []")
            .AppendLine("  __buffers__ = []")
            .AppendLine("  training : bool")
            .AppendLine($"  {ConvPacked} : List[{PackedParams}.Conv2dPackedParamsBase]")
            .AppendLine($"  {LinearPacked} : List[{PackedParams}.LinearPackedParamsBase]")
            .AppendLine($"  def setup({self}, weights: List[Tensor], scales: List[Tensor], zero_points: List[Tensor], biases: List[Tensor]) -> None:")
            .AppendLine($"    self.{ConvPacked}.clear()")
            .AppendLine($"    self.{LinearPacked}.clear()")
            .Append(setup)
            .AppendLine("    return None")
            .AppendLine($"  def forward({self}, x: Tensor) -> Tensor:")
            .Append(forward)
            .ToString();
        return new TorchScriptInt8Source(ClassName, source, [ConvPacked, LinearPacked], layers, biased);
    }

    /// <summary>Emits the construction of quantized weight <c>w</c> for layer <paramref name="name"/>; returns its bias expression.</summary>
    private static string AppendWeight(StringBuilder setup, QuantizedGraph quantized, string name, List<string> layers, List<string> biased)
    {
        if (!quantized.Weights.TryGetValue(name, out var weight))
        {
            throw new InvalidOperationException($"Layer {name} has no int8 weight in the quantized graph.");
        }
        if (weight.IntWeight.dtype != ScalarType.Int8)
        {
            throw new NotSupportedException($"Layer {name}: int8 weights are expected, found {weight.IntWeight.dtype}.");
        }
        var i = layers.Count;
        layers.Add(name);
        setup.AppendLine(weight.PerChannel
            ? $"    w = torch._make_per_channel_quantized_tensor(weights[{i}], scales[{i}], zero_points[{i}], {WeightQuantization.ChannelAxis})"
            : $"    w = torch._make_per_tensor_quantized_tensor(weights[{i}], float(scales[{i}]), int(zero_points[{i}]))");
        if (weight.Bias is null)
        {
            return "None";
        }
        biased.Add(name);
        return $"biases[{biased.Count - 1}]";
    }

    private static ActivationQuantization Quantization(QuantizedGraph quantized, GraphValue value)
    {
        var q = quantized.QuantizationOf(value);
        if (q.Dtype != ScalarType.QUInt8)
        {
            throw new NotSupportedException($"Activation {value}: LibTorch's int8 CPU kernels take quint8 activations, not {q.Dtype}.");
        }
        if (!double.IsFinite(q.Scale) || q.Scale <= 0)
        {
            throw new ArgumentException($"Activation {value} has an invalid scale {q.Scale}.");
        }
        return q;
    }

    // q_ + the sanitized node name (conv, linear) or the node kind and value id, with '_' appended until unique;
    // the q_ prefix keeps clear of TorchScript keywords and builtins.
    private static string VariableName(GraphNode node, HashSet<string> taken)
    {
        var stem = node switch
        {
            InputNode => "input",
            Conv2dNode conv => Sanitize(conv.Name),
            LinearNode linear => Sanitize(linear.Name),
            AddNode => $"add_{node.Output.Id}",
            AdaptiveAvgPool2dNode => $"avgpool_{node.Output.Id}",
            MaxPool2dNode => $"maxpool_{node.Output.Id}",
            FlattenNode => $"flatten_{node.Output.Id}",
            _ => $"v_{node.Output.Id}",
        };
        var name = $"q_{stem}";
        while (!taken.Add(name))
        {
            name += "_";
        }
        return name;
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        return chars.Length == 0 ? "layer" : new string(chars);
    }

    private static string DtypeCode(ScalarType dtype) => ((int)dtype).ToString(CultureInfo.InvariantCulture);

    private static string IntList(long[] values, string owner)
    {
        if (values.Length == 0)
        {
            // An empty list literal would be typed List[Tensor] by TorchScript: a compile error, i.e. an abort.
            throw new ArgumentException($"{owner}: an empty int list cannot be written as TorchScript.");
        }
        return $"[{string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]";
    }

    /// <summary>A float literal that round-trips exactly and always reads as a float (has '.' or an exponent).</summary>
    private static string Float(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        var exponent = text.IndexOf('e');
        var mantissa = exponent < 0 ? text : text[..exponent];
        return mantissa.Contains('.') ? text : mantissa + ".0" + (exponent < 0 ? "" : text[exponent..]);
    }
}
