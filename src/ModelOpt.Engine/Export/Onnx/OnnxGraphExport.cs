using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;
using static ModelOpt.Engine.Export.Onnx.OnnxAttributes;

namespace ModelOpt.Engine.Export.Onnx;

/// <summary>
/// Lowers a <see cref="ModelGraph"/> node by node. With a <see cref="QuantizedGraph"/> every quantized value gets a
/// QuantizeLinear/DequantizeLinear pair and conv / linear weights and biases are stored as integers behind a
/// DequantizeLinear — the QDQ form ONNX Runtime fuses into QLinearConv / QLinearAdd / QGemm. A layer kept FP32 keeps
/// float weights and gets a QDQ pair on its output only where an int8 layer reads it.
/// </summary>
internal sealed class OnnxGraphExport(ModelGraph graph, QuantizedGraph? quantized)
{
    private readonly OnnxGraphWriter writer = new();
    private readonly Dictionary<GraphValue, string> names = [];
    private readonly Dictionary<ActivationQuantization, (string Scale, string ZeroPoint)> qparams = [];
    private Dictionary<GraphValue, long> ranks = [];

    public ModelProto Build(string docString)
    {
        var input = writer.UniqueName(OnnxExporter.InputName);
        ranks = ValueRanks(graph.InputNode.Shape);
        // A single output keeps the exporter's name; several keep the model's own, in its order.
        var outputNames = graph.HasSeveralOutputs ? graph.OutputNames : [OnnxExporter.OutputName];
        var firstOutputOf = new Dictionary<GraphValue, string>();
        for (var i = graph.Outputs.Count - 1; i >= 0; i--)
        {
            firstOutputOf[graph.Outputs[i]] = outputNames[i];
        }
        foreach (var node in graph.Nodes)
        {
            var (data, prefix, ops) = Lower(node, input);
            // Pooling and flatten are requantized with their input's qparams too, as PyTorch's int8 ops do; it keeps
            // the Gemm input behind a DequantizeLinear so ONNX Runtime can fuse it into QGemm.
            var chain = ops.Concat(QuantizeDequantize(node.Output)).ToList();
            var isOutput = firstOutputOf.TryGetValue(node.Output, out var outputName);
            if (chain.Count == 0 && isOutput)
            {
                chain.Add(new OnnxOp("Identity")); // Names the graph output.
            }
            names[node.Output] = writer.Chain(data, prefix, chain, isOutput ? outputName : null);
        }
        var outputs = new List<string>();
        for (var i = 0; i < graph.Outputs.Count; i++)
        {
            var value = names[graph.Outputs[i]];
            // A value given as two outputs: the second is an Identity of the first.
            outputs.Add(value == outputNames[i] ? value : writer.Chain(value, $"output{i}", [new OnnxOp("Identity")], outputNames[i]));
        }
        var inputShape = graph.InputNode.Shape;
        return writer.ToModel(input, inputShape, outputs, OutputShapes(inputShape), OnnxExporter.Opset, docString);
    }

    private (string Data, string Prefix, List<OnnxOp> Ops) Lower(GraphNode node, string graphInput)
    {
        switch (node)
        {
            case InputNode:
                return (graphInput, graphInput, []);
            case Conv2dNode conv:
            {
                var inputs = new List<string> { Weight(conv.Name, conv.Weight) };
                if (Bias(conv.Name, conv.Bias, conv.Input) is { } bias)
                {
                    inputs.Add(bias);
                }
                var attributes = new[]
                {
                    Ints("kernel_shape", conv.Weight.shape.Skip(2)),
                    Ints("strides", conv.Stride),
                    Ints("pads", conv.Padding.Concat(conv.Padding)), // ONNX lists all begins, then all ends.
                    Ints("dilations", conv.Dilation),
                    Int("group", conv.Groups),
                };
                return (names[conv.Input], conv.Name, WithRelu(new OnnxOp("Conv", inputs, attributes), conv.Relu));
            }
            case BatchNorm2dNode bn:
            {
                using var scale = bn.Weight?.detach() ?? ones_like(bn.RunningMean);
                using var shift = bn.Bias?.detach() ?? zeros_like(bn.RunningMean);
                string[] inputs =
                [
                    writer.Initializer($"{bn.Name}.weight", scale),
                    writer.Initializer($"{bn.Name}.bias", shift),
                    writer.Initializer($"{bn.Name}.running_mean", bn.RunningMean),
                    writer.Initializer($"{bn.Name}.running_var", bn.RunningVar),
                ];
                return (names[bn.Input], bn.Name, [new OnnxOp("BatchNormalization", inputs, [Float("epsilon", (float)bn.Eps)])]);
            }
            case ReLUNode relu:
                return (names[relu.Input], Prefix(relu), [new OnnxOp("Relu")]);
            case AddNode add:
                return (names[add.Left], Prefix(add), WithRelu(new OnnxOp("Add", names[add.Right]), add.Relu));
            case AdaptiveAvgPool2dNode pool when pool.OutputSize.All(s => s == 1):
                return (names[pool.Input], Prefix(pool), [new OnnxOp("GlobalAveragePool")]);
            case MaxPool2dNode pool:
            {
                var attributes = new[]
                {
                    Ints("kernel_shape", pool.KernelSize),
                    Ints("strides", pool.Stride.Length == 0 ? pool.KernelSize : pool.Stride), // torch's default stride is the kernel.
                    Ints("pads", pool.Padding.Concat(pool.Padding)),
                    Int("ceil_mode", pool.CeilMode ? 1 : 0),
                };
                return (names[pool.Input], Prefix(pool), [new OnnxOp("MaxPool", [], attributes)]);
            }
            case FlattenNode flatten when flatten.StartDim == 1:
                // ONNX Flatten always yields 2-D; torch.flatten(start_dim) matches it only for start_dim 1.
                return (names[flatten.Input], Prefix(flatten), [new OnnxOp("Flatten", [], [Int("axis", 1)])]);
            case LinearNode linear when ranks[linear.Input] != 2:
            {
                // Gemm is 2-D only: a linear layer on (N, ..., features) is MatMul with the transposed weight, then the bias.
                var weight = writer.Chain(Weight(linear.Name, linear.Weight), linear.Name, [new OnnxOp("Transpose", [], [Ints("perm", [1, 0])])]);
                var ops = new List<OnnxOp> { new("MatMul", weight) };
                if (Bias(linear.Name, linear.Bias, linear.Input) is { } bias)
                {
                    ops.Add(new OnnxOp("Add", bias));
                }
                return (names[linear.Input], linear.Name, linear.Relu ? [.. ops, new OnnxOp("Relu")] : ops);
            }
            case LinearNode linear:
            {
                var inputs = new List<string> { Weight(linear.Name, linear.Weight) };
                if (Bias(linear.Name, linear.Bias, linear.Input) is { } bias)
                {
                    inputs.Add(bias);
                }
                return (names[linear.Input], linear.Name, WithRelu(new OnnxOp("Gemm", inputs, [Int("transB", 1)]), linear.Relu));
            }
            case AvgPool2dNode pool:
            {
                var attributes = new[]
                {
                    Ints("kernel_shape", pool.KernelSize),
                    Ints("strides", pool.Stride.Length == 0 ? pool.KernelSize : pool.Stride),
                    Ints("pads", pool.Padding.Concat(pool.Padding)),
                    Int("count_include_pad", pool.CountIncludePad ? 1 : 0),
                    Int("ceil_mode", pool.CeilMode ? 1 : 0),
                };
                return (names[pool.Input], Prefix(pool), [new OnnxOp("AveragePool", [], attributes)]);
            }
            case ClampNode clamp:
            {
                using var min = tensor((float)clamp.Min);
                using var max = tensor((float)clamp.Max);
                var bounds = new[] { writer.Initializer($"{Prefix(clamp)}.min", min), writer.Initializer($"{Prefix(clamp)}.max", max) };
                return (names[clamp.Input], Prefix(clamp), [new OnnxOp("Clip", bounds)]);
            }
            case ConcatNode concat:
                return (names[concat.Parts[0]], Prefix(concat),
                    [new OnnxOp("Concat", [.. concat.Parts.Skip(1).Select(p => names[p])], [Int("axis", concat.Dim)])]);
            case UnaryNode unary:
                return (names[unary.Input], unary.Name, [unary.Function switch
                {
                    UnaryFunction.Sigmoid => new OnnxOp("Sigmoid"),
                    UnaryFunction.HardSigmoid => new OnnxOp("HardSigmoid", [], [Float("alpha", (float)unary.Alpha), Float("beta", (float)unary.Beta)]),
                    UnaryFunction.HardSwish => new OnnxOp("HardSwish"),
                    UnaryFunction.LeakyRelu => new OnnxOp("LeakyRelu", [], [Float("alpha", (float)unary.Alpha)]),
                    _ => throw new NotSupportedException($"No ONNX lowering for {unary.Function}."),
                }]);
            case MulNode mul:
                return (names[mul.Left], mul.Name, [new OnnxOp("Mul", names[mul.Right])]);
            case SoftmaxNode softmax:
                return (names[softmax.Input], softmax.Name, [new OnnxOp("Softmax", [], [Int("axis", softmax.Dim)])]);
            case ConstantNode constant:
                return (writer.Initializer(constant.Name, constant.Value), Prefix(constant), []);
            case FloatOpNode op:
                return (op.Op.Onnx(new Sink(writer, op.Name), [.. op.Operands.Select(v => names[v])]), op.Name, []);
            default:
                throw new NotSupportedException($"No ONNX lowering for {node.GetType().Name} {node}.");
        }
    }

    private static string Prefix(GraphNode node) => $"v{node.Output.Id}";

    /// <summary>Writes a float op's nodes under its name.</summary>
    private sealed class Sink(OnnxGraphWriter writer, string prefix) : IOnnxNodeSink
    {
        public string Node(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
            writer.Node(prefix, opType, inputs, attributes);

        public string Constant(string name, Tensor value) => writer.Initializer($"{prefix}/{name}", value);
    }

    /// <summary>The rank of every value, from one FP32 run on a batch of one.</summary>
    private Dictionary<GraphValue, long> ValueRanks(long[] inputShape)
    {
        var result = new Dictionary<GraphValue, long>();
        using var sample = zeros([1, .. inputShape.Skip(1)]);
        using var output = GraphInterpreter.Run(graph, sample, (value, tensor) => result[value] = tensor.dim());
        return result;
    }

    private static List<OnnxOp> WithRelu(OnnxOp op, bool relu) => relu ? [op, new OnnxOp("Relu")] : [op];

    private string Weight(string name, Tensor weight)
    {
        if (!IsInt8Layer(name))
        {
            return writer.Initializer($"{name}.weight", weight);
        }
        var q = WeightOf(name);
        using var scope = NewDisposeScope();
        var intWeight = writer.Initializer($"{name}.weight_quantized", q.IntWeight);
        var scale = writer.Initializer($"{name}.weight_scale", PerChannelOrScalar(q, q.Scales.to(float32)));
        var zeroPoint = writer.Initializer($"{name}.weight_zero_point", PerChannelOrScalar(q, q.ZeroPoints.to(int8)));
        return writer.Chain(intWeight, name, [Dequantize(q, scale, zeroPoint)], $"{name}.weight");
    }

    /// <summary>The int32 bias has scale input_scale × weight_scale[c] and zero point 0, as QLinearConv / QGemm expect.</summary>
    private string? Bias(string name, Tensor? nodeBias, GraphValue input)
    {
        if (!IsInt8Layer(name))
        {
            return nodeBias is null ? null : writer.Initializer($"{name}.bias", nodeBias);
        }
        var q = WeightOf(name);
        if ((q.Bias ?? nodeBias) is not { } bias)
        {
            return null;
        }
        using var scope = NewDisposeScope();
        // Scales are rounded to float32 first: the bias must be an integer multiple of the scales the file stores.
        var inputScale = (double)(float)quantized!.QuantizationOf(input).Scale;
        var biasScale = (q.Scales.to(float32).to(float64) * inputScale).to(float32);
        var intBias = (bias.detach().to(float64) / biasScale.to(float64)).round().clamp(int.MinValue, int.MaxValue).to(int32);
        var intName = writer.Initializer($"{name}.bias_quantized", intBias);
        var scale = writer.Initializer($"{name}.bias_scale", PerChannelOrScalar(q, biasScale));
        var zeroPoint = writer.Initializer($"{name}.bias_zero_point", PerChannelOrScalar(q, zeros_like(biasScale, dtype: int32)));
        return writer.Chain(intName, name, [Dequantize(q, scale, zeroPoint)], $"{name}.bias");
    }

    /// <summary>False in the FP32 model and for a layer kept FP32, whose float weight and bias are stored as they are.</summary>
    private bool IsInt8Layer(string name) => quantized?.Weights.ContainsKey(name) == true;

    private WeightQuantization WeightOf(string name) =>
        quantized!.Weights.TryGetValue(name, out var q) ? q : throw new InvalidOperationException($"The quantized graph has no int8 weight for {name}.");

    private static Tensor PerChannelOrScalar(WeightQuantization q, Tensor values) => q.PerChannel ? values : values.reshape([]);

    private static OnnxOp Dequantize(WeightQuantization q, string scale, string zeroPoint) =>
        new("DequantizeLinear", [scale, zeroPoint], q.PerChannel ? [Int("axis", WeightQuantization.ChannelAxis)] : []);

    private IEnumerable<OnnxOp> QuantizeDequantize(GraphValue value)
    {
        if (quantized?.TryQuantizationOf(value) is not { } q)
        {
            return []; // FP32 model, or a value that stays FP32 in the int8 one.
        }
        if (!qparams.TryGetValue(q, out var names))
        {
            using var scale = tensor((float)q.Scale);
            using var zeroPoint = tensor(q.ZeroPoint, dtype: ZeroPointType(q.Dtype));
            names = (writer.Initializer($"v{value.Id}.scale", scale), writer.Initializer($"v{value.Id}.zero_point", zeroPoint));
            qparams[q] = names;
        }
        return [new OnnxOp("QuantizeLinear", names.Scale, names.ZeroPoint), new OnnxOp("DequantizeLinear", names.Scale, names.ZeroPoint)];
    }

    private static ScalarType ZeroPointType(ScalarType activationType) => activationType switch
    {
        ScalarType.Byte or ScalarType.QUInt8 => ScalarType.Byte,
        ScalarType.Int8 or ScalarType.QInt8 => ScalarType.Int8,
        _ => throw new NotSupportedException($"QuantizeLinear has no {activationType} activations."),
    };

    /// <summary>The outputs' shapes for a batch of one, found by running the FP32 graph once.</summary>
    private long[][] OutputShapes(long[] inputShape)
    {
        using var scope = NewDisposeScope();
        using var sample = zeros([1, .. inputShape.Skip(1)]);
        return [.. GraphInterpreter.RunAll(graph, sample).Select(o => o.shape)];
    }
}
