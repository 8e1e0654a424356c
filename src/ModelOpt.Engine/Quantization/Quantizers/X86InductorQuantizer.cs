using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;

namespace ModelOpt.Engine.Quantization.Quantizers;

/// <summary>
/// The x86 recipe of PyTorch's <c>X86InductorQuantizer</c>, for LibTorch's x86 / fbgemm int8 kernels, which take
/// quint8 activations and qint8 weights.
/// </summary>
public static class X86InductorQuantizer
{
    /// <summary>2^-12: PyTorch's x86 eps, which keeps scales of near-constant tensors representable by the kernels' requantization.</summary>
    public const double Eps = 1.0 / 4096;

    public static QuantizationSpec ActivationSpec(bool symmetric = false) =>
        new(ScalarType.Byte, symmetric ? QScheme.PerTensorSymmetric : QScheme.PerTensorAffine, quantMin: 0, quantMax: 255);

    public static QuantizationSpec WeightSpec(bool perChannel = true) =>
        perChannel
            ? new(ScalarType.Int8, QScheme.PerChannelSymmetric, quantMin: -128, quantMax: 127, chAxis: 0)
            : new(ScalarType.Int8, QScheme.PerTensorSymmetric, quantMin: -128, quantMax: 127);

    /// <summary>
    /// <c>get_default_x86_inductor_quantization_config()</c>: activations uint8 [0, 255] per-tensor affine observed by a
    /// <see cref="HistogramObserver"/>; weights int8 [-128, 127] per-channel symmetric on axis 0 observed by a
    /// <see cref="PerChannelMinMaxObserver"/>; both with eps 2^-12. Bias stays fp32.
    /// </summary>
    public static QConfig GetDefaultQuantizationConfig()
    {
        var activation = ActivationSpec();
        var weight = WeightSpec();
        return new QConfig(() => new HistogramObserver(activation, Eps), () => new PerChannelMinMaxObserver(weight, Eps));
    }

    /// <summary>
    /// Marks what prepare observes in a BN-folded, relu-fused graph.
    /// Step 1: the graph input and the output of every conv, add, cat and linear (the int8 kernels' outputs) get an
    /// activation observer, and every conv and linear weight a weight observer.
    /// Step 2: pooling, flatten, clamp (ReLU6), a ReLU not fused into its producer and the data-movement ops (transpose,
    /// reshape, slice, squeeze) reuse their input's quantization (no observer) when that input is int8.
    /// Step 3: ops with no int8 kernel (sigmoid, hardsigmoid, hardswish, leaky relu, mul, softmax, every other
    /// <see cref="FloatOpNode"/> and the constants they read) stay FP32, as do
    /// pooling, flatten, clamp and data movement on an FP32 input; such a value is observed only where an int8 kernel reads it, so the
    /// int8 model quantizes it there.
    /// Anything else (an unfolded BatchNorm2dNode) has no int8 kernel and is rejected.
    /// The conv / linear layers named in <paramref name="keepFloat"/> are left unannotated, as <c>set_module_name(name, None)</c>
    /// does: FP32 weights, FP32 compute, their output observed only where an int8 kernel reads it.
    /// </summary>
    /// <exception cref="QuantizationException">A name in <paramref name="keepFloat"/> is no conv or linear layer of the graph.</exception>
    public static GraphAnnotation Annotate(ModelGraph graph, IReadOnlyCollection<string>? keepFloat = null)
    {
        var kept = KeptFloatLayers(graph, keepFloat ?? []);
        bool IsKept(GraphNode node) => LayerName(node) is { } name && kept.Contains(name);
        bool Int8Kernel(GraphNode node) => IsInt8Kernel(node) && !IsKept(node);
        var readers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Value: i, Reader: n))).ToLookup(e => e.Value, e => e.Reader);
        var observed = new List<GraphValue>();
        var weighted = new List<string>();
        var int8 = new HashSet<GraphValue>();
        foreach (var node in graph.Nodes)
        {
            switch (node)
            {
                case InputNode or AddNode or ConcatNode:
                    observed.Add(node.Output);
                    break;
                case var shared when SharesInputQuantization(shared) && int8.Contains(shared.Inputs[0]):
                    int8.Add(shared.Output);
                    continue;
                case var fp32 when IsKept(fp32) || SharesInputQuantization(fp32) || StaysFloat(fp32):
                    if (readers[fp32.Output].Any(Int8Kernel))
                    {
                        observed.Add(fp32.Output);
                        break;
                    }
                    continue;
                case Conv2dNode conv:
                    observed.Add(conv.Output);
                    weighted.Add(conv.Name);
                    break;
                case LinearNode linear:
                    observed.Add(linear.Output);
                    weighted.Add(linear.Name);
                    break;
                default:
                    throw new NotSupportedException($"{node.GetType().Name} producing {node.Output} has no int8 kernel; fold or fuse it before annotating.");
            }
            int8.Add(node.Output);
        }
        return new GraphAnnotation(observed, weighted);
    }

    /// <summary>The names of the conv and linear layers, which are what <c>keepFloat</c> may name.</summary>
    public static IReadOnlyList<string> QuantizableLayers(ModelGraph graph) =>
        graph.Nodes.Select(LayerName).OfType<string>().ToList();

    /// <summary>The name of a conv or linear node; null for other nodes.</summary>
    public static string? LayerName(GraphNode node) => node switch
    {
        Conv2dNode conv => conv.Name,
        LinearNode linear => linear.Name,
        _ => null,
    };

    private static HashSet<string> KeptFloatLayers(ModelGraph graph, IReadOnlyCollection<string> keepFloat)
    {
        var layers = QuantizableLayers(graph);
        var unknown = keepFloat.Except(layers, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new QuantizationException(
                $"keepFloat names no conv or linear layer of the model: {string.Join(", ", unknown)}. Its layers are: {string.Join(", ", layers)}.");
        }
        return keepFloat.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Ops LibTorch runs on int8 tensors with their input's scale and zero point: pooling, clamp, relu, and the ops that
    /// only move data (a channel shuffle's reshape and transpose, a channel split's slices, a flatten), as PyTorch's
    /// backend config shares qparams across its general tensor-shape ops. Their first operand is the data.
    /// </summary>
    public static bool SharesInputQuantization(GraphNode node) =>
        node is AdaptiveAvgPool2dNode or MaxPool2dNode or AvgPool2dNode or FlattenNode or ClampNode or ReLUNode || MovesDataOnly(node);

    /// <summary>Ops with no int8 kernel in the x86 recipe: FP32 inside the int8 model.</summary>
    public static bool StaysFloat(GraphNode node) =>
        node is UnaryNode or MulNode or SoftmaxNode or ConstantNode || (node is FloatOpNode && !MovesDataOnly(node));

    private static bool MovesDataOnly(GraphNode node) =>
        node is FloatOpNode { Op: TransposeOp or ReshapeOp or NarrowOp or FlattenOp or SqueezeOp };

    /// <summary>Ops whose int8 kernel takes int8 inputs and produces an int8 output with its own qparams.</summary>
    public static bool IsInt8Kernel(GraphNode node) => node is Conv2dNode or LinearNode or AddNode or ConcatNode;
}
